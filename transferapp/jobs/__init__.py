"""Jobs: watched folders, schedules, pull jobs and the agent that runs them."""
