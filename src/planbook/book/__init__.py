"""Stage 6, the book: the period's book spec, executed notebooks read into pages, and one
module per engine or output (built-in HTML and PDF, code pages, Quarto, pandoc)."""
