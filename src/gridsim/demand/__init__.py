"""What happens: incidents drawn from rates, school-run incidents."""
