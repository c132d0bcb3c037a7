"""insats: evaluate labour-market interventions for people on social assistance, per district."""

__version__ = "0.1.0"
