# Operations: DAG drawing and HTML report targets (issue 8).
