"""The review pages: reading (list, review, action items, metrics) and the editor."""
