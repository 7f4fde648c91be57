"""Benchmark workload: an incremental constraint solver in the style of DeltaBlue
(pyperformance's deltablue): variables, constraints of several strengths, a
planner that adds and removes constraints and re-plans, on a chain and on a
projection network. Small objects, method dispatch through a class hierarchy."""

REQUIRED, STRONG, MEDIUM, WEAK = 0, 1, 2, 3


def stronger(a, b):
    return a < b


class Variable:
    def __init__(self, name, value=0):
        self.name = name
        self.value = value
        self.constraints = []
        self.determined_by = None
        self.walk_strength = WEAK
        self.stay = True
        self.mark = 0


class Constraint:
    def __init__(self, strength):
        self.strength = strength

    def add(self, planner):
        self.attach()
        planner.incremental_add(self)

    def remove(self, planner):
        if self.is_satisfied():
            planner.incremental_remove(self)
        self.detach()


class UnaryConstraint(Constraint):
    def __init__(self, var, strength):
        Constraint.__init__(self, strength)
        self.output = var
        self.satisfied = False

    def attach(self):
        self.output.constraints.append(self)

    def detach(self):
        self.output.constraints.remove(self)

    def is_satisfied(self):
        return self.satisfied

    def choose(self, mark):
        self.satisfied = self.output.mark != mark and \
            stronger(self.strength, self.output.walk_strength)

    def outputs(self):
        return [self.output]

    def inputs_known(self, mark):
        return True

    def recalculate(self):
        self.output.walk_strength = self.strength
        self.output.stay = not self.is_input()
        if self.output.stay:
            self.execute()

    def unsatisfy(self):
        self.satisfied = False


class StayConstraint(UnaryConstraint):
    def is_input(self):
        return False

    def execute(self):
        pass


class EditConstraint(UnaryConstraint):
    def is_input(self):
        return True

    def execute(self):
        pass


class BinaryConstraint(Constraint):
    def __init__(self, v1, v2, strength):
        Constraint.__init__(self, strength)
        self.v1, self.v2 = v1, v2
        self.direction = None  # 1: v1 -> v2, -1: v2 -> v1

    def attach(self):
        self.v1.constraints.append(self)
        self.v2.constraints.append(self)

    def detach(self):
        self.v1.constraints.remove(self)
        self.v2.constraints.remove(self)

    def is_satisfied(self):
        return self.direction is not None

    def choose(self, mark):
        if self.v1.mark == mark:
            self.direction = 1 if self.v2.mark != mark and \
                stronger(self.strength, self.v2.walk_strength) else None
        elif self.v2.mark == mark:
            self.direction = -1 if stronger(self.strength, self.v1.walk_strength) else None
        elif stronger(self.v1.walk_strength, self.v2.walk_strength):
            self.direction = -1 if stronger(self.strength, self.v1.walk_strength) else None
        else:
            self.direction = 1 if stronger(self.strength, self.v2.walk_strength) else None

    def input(self):
        return self.v1 if self.direction == 1 else self.v2

    def output(self):
        return self.v2 if self.direction == 1 else self.v1

    def outputs(self):
        return [self.output()]

    def inputs_known(self, mark):
        i = self.input()
        return i.mark == mark or i.stay or i.determined_by is None

    def recalculate(self):
        i, o = self.input(), self.output()
        o.walk_strength = max(self.strength, i.walk_strength)
        o.stay = i.stay
        if o.stay:
            self.execute()

    def unsatisfy(self):
        self.direction = None


class EqualityConstraint(BinaryConstraint):
    def execute(self):
        self.output().value = self.input().value


class ScaleConstraint(BinaryConstraint):
    def __init__(self, src, scale, offset, dest, strength):
        self.scale, self.offset = scale, offset
        BinaryConstraint.__init__(self, src, dest, strength)

    def execute(self):
        if self.direction == 1:
            self.v2.value = self.v1.value * self.scale.value + self.offset.value
        else:
            self.v1.value = (self.v2.value - self.offset.value) // max(self.scale.value, 1)


class Planner:
    def __init__(self):
        self.current_mark = 0

    def new_mark(self):
        self.current_mark += 1
        return self.current_mark

    def incremental_add(self, c):
        mark = self.new_mark()
        overridden = self.satisfy(c, mark)
        while overridden is not None:
            overridden = self.satisfy(overridden, mark)

    def satisfy(self, c, mark):
        c.choose(mark)
        if not c.is_satisfied():
            return None
        for out in c.outputs():
            overridden = out.determined_by
            if overridden is not None:
                overridden.unsatisfy()
            out.determined_by = c
            out.mark = mark
            c.recalculate()
            return overridden
        return None

    def incremental_remove(self, c):
        for out in c.outputs():
            out.determined_by = None
            out.walk_strength = WEAK
        c.unsatisfy()
        unsatisfied = []
        for v in self.downstream(c):
            for other in v.constraints:
                if not other.is_satisfied():
                    unsatisfied.append(other)
        unsatisfied.sort(key=lambda k: k.strength)
        for u in unsatisfied:
            self.incremental_add(u)

    def downstream(self, c):
        seen, todo = [], list(c.outputs())
        while todo:
            v = todo.pop()
            seen.append(v)
            for other in v.constraints:
                if other is not v.determined_by and other.is_satisfied():
                    todo.extend(o for o in other.outputs() if o not in seen)
        return seen

    def extract_plan(self, sources):
        plan, mark, todo = [], self.new_mark(), list(sources)
        while todo:
            c = todo.pop(0)
            out = c.outputs()[0]
            if out.mark != mark and c.inputs_known(mark):
                plan.append(c)
                out.mark = mark
                for other in out.constraints:
                    if other is not c and other.is_satisfied():
                        todo.append(other)
        return plan

    def run_edit(self, var, values):
        edit = EditConstraint(var, STRONG)
        edit.add(self)
        plan = self.extract_plan([edit])
        for v in values:
            var.value = v
            for c in plan:
                c.execute()
        edit.remove(self)


def chain_test(n):
    planner = Planner()
    vars_ = [Variable("v%d" % i) for i in range(n + 1)]
    for a, b in zip(vars_, vars_[1:]):
        EqualityConstraint(a, b, REQUIRED).add(planner)
    StayConstraint(vars_[-1], STRONG).add(planner)
    planner.run_edit(vars_[0], range(100))
    return vars_[-1].value


def projection_test(n):
    planner = Planner()
    scale, offset = Variable("scale", 10), Variable("offset", 1000)
    dests = []
    for i in range(n):
        src, dst = Variable("s%d" % i, i), Variable("d%d" % i, i)
        dests.append(dst)
        StayConstraint(src, MEDIUM).add(planner)
        ScaleConstraint(src, scale, offset, dst, REQUIRED).add(planner)
    planner.run_edit(scale, [5, 10])
    planner.run_edit(offset, [2000, 3000])
    return sum(d.value for d in dests)


def main():
    total = 0
    for _ in range(400):
        total += chain_test(100) + projection_test(100)
    print(total)


if __name__ == "__main__":
    main()
