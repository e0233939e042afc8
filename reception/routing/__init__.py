"""Human routing (分流): agents and their state, the router, the queue, the offline pool, reply watchdog."""
