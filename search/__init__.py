"""Query time: hybrid retrieval, snippets, expert ranking and evaluation."""
