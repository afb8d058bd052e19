DROP TABLE case_heads;
