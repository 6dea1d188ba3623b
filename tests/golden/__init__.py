"""The golden (regression) suite: committed outputs of the shipped and a synthetic scenario."""
