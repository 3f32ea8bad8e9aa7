"""SONAR: an event-sourced shared care record for people in the criminal justice system."""
