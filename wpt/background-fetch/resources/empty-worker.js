// An empty service worker for tests that only need a registration.
