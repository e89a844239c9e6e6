// A worker with no Background Fetch handlers.
