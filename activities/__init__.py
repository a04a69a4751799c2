"""Every contact with the outside world, as activity classes whose dependencies are injected."""
