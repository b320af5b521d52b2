"""The catalog: cashiers, departments, offers and the classifier search."""
