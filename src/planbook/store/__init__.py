"""Stage 2, the data: the observation store with its revisions, the intake of department
files, the templates they fill in, the village records and the illustrative sample."""
