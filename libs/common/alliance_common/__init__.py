"""Infrastructure shared by every Alliance Platform service. No domain code lives here."""
