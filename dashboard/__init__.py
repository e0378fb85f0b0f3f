"""The staff dashboard: what learners ask, where the assistant fails, and what to fix first.

`python -m dashboard` (make dashboard) serves it on BIND_HOST:DASHBOARD_PORT. Staff sign in with a
short-lived link the Slack app gives in the support channel (`/assistant dashboard`); nothing with
learner text is shown without that sign-in. Modules: app (routes and headers), auth (the session
cookie), pages (the HTML), __main__ (the server).
"""
