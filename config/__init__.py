"""Process configuration: settings from the environment, and the Temporal connection every process shares."""
