"""What the tests share: fixtures, replays, the local IAM endpoint and the stock-CLI runners.

Test modules import from here and never from one another.
"""
