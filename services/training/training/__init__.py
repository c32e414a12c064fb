"""Training: IP training sessions, registrations, attendance and certificates."""
