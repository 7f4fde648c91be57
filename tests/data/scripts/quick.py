"""quick.py - a tiny, fast script that prints one line (for --repeat tests)."""
print("quick ran", sum(range(1000)))
