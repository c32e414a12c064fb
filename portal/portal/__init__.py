"""The member portal: server-rendered pages (FastAPI + Jinja2) in front of the gateway.

A backend-for-frontend: people sign in through the alliance's OpenID Connect provider
(authorization code + PKCE); their tokens stay in the portal's own database, the browser holds
only a random session id in an HttpOnly cookie. Every page calls the gateway with the signed-in
person's token (or, for the public pages, the portal's own client-credentials token).
"""
