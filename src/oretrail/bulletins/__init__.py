"""Warning bulletins: a department warns chosen departments and provinces at once (issue 13 §5)."""
