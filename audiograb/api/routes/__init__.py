"""Route handlers, one module per area: service, jobs, events and the original tool's aliases."""
