"""syntax_error.py - deliberately invalid Python."""
print("never printed")
def broken(:
    pass
