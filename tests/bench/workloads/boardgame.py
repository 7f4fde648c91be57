"""Benchmark workload: a board-game search (pyperformance's go in spirit, with a
smaller game): Connect Four on a 7x6 board, negamax with alpha-beta pruning and
a transposition table, from a few fixed openings."""

WIDTH, HEIGHT = 7, 6
ORDER = [3, 2, 4, 1, 5, 0, 6]  # centre columns first
LINES = []
for _r in range(HEIGHT):
    for _c in range(WIDTH):
        for _dr, _dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
            cells = [(_r + k * _dr, _c + k * _dc) for k in range(4)]
            if all(0 <= r < HEIGHT and 0 <= c < WIDTH for r, c in cells):
                LINES.append([r * WIDTH + c for r, c in cells])


class Board:
    def __init__(self):
        self.cells = [0] * (WIDTH * HEIGHT)
        self.heights = [0] * WIDTH
        self.moves = 0

    def can_play(self, col):
        return self.heights[col] < HEIGHT

    def play(self, col, who):
        self.cells[self.heights[col] * WIDTH + col] = who
        self.heights[col] += 1
        self.moves += 1

    def undo(self, col):
        self.heights[col] -= 1
        self.cells[self.heights[col] * WIDTH + col] = 0
        self.moves -= 1

    def wins(self, who):
        cells = self.cells
        for line in LINES:
            if cells[line[0]] == who and cells[line[1]] == who and \
                    cells[line[2]] == who and cells[line[3]] == who:
                return True
        return False

    def score(self, who):
        total = 0
        cells = self.cells
        for line in LINES:
            mine = theirs = 0
            for i in line:
                v = cells[i]
                if v == who:
                    mine += 1
                elif v:
                    theirs += 1
            if not theirs:
                total += (0, 1, 4, 16, 1000)[mine]
            elif not mine:
                total -= (0, 1, 4, 16, 1000)[theirs]
        return total

    def key(self):
        return tuple(self.cells)


def negamax(board, who, depth, alpha, beta, table):
    key = (board.key(), who, depth)
    if key in table:
        return table[key]
    if board.wins(-who):
        return -100000 - depth
    if depth == 0 or board.moves == WIDTH * HEIGHT:
        return board.score(who)
    best = -10 ** 9
    for col in ORDER:
        if not board.can_play(col):
            continue
        board.play(col, who)
        value = -negamax(board, -who, depth - 1, -beta, -alpha, table)
        board.undo(col)
        if value > best:
            best = value
        if best > alpha:
            alpha = best
        if alpha >= beta:
            break
    table[key] = best
    return best


def best_move(board, who, depth):
    table = {}
    scores = []
    for col in ORDER:
        if board.can_play(col):
            board.play(col, who)
            scores.append((-negamax(board, -who, depth - 1, -10 ** 9, 10 ** 9, table), col))
            board.undo(col)
    return max(scores)


def main():
    results = []
    for opening in ([3, 3], [2, 4, 3], [0, 6, 1, 5], [3], [1, 1, 5], [4, 2, 2, 4]):
        board = Board()
        who = 1
        for col in opening:
            board.play(col, who)
            who = -who
        results.append(best_move(board, who, 6))
    print(results)


if __name__ == "__main__":
    main()
