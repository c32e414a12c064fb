"""`python -m portal` serves the portal (uvicorn) with settings from the environment."""

import uvicorn

from portal.app import create_app
from portal.settings import get_settings


def main() -> None:
    settings = get_settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, proxy_headers=False, log_level="info")


if __name__ == "__main__":
    main()
