"""Interactive views (ipywidgets), each with a plain-function twin; ipywidgets is imported only inside them."""
