"""The web tier for a WSGI server beside `kiosk worker` (production):
`gunicorn 'kiosk_app.wsgi:app'`. Each web process serves the views and the OCPI receiver and
feeds the CPO's pushes into the engine; the worker process drives terminals and timers."""

from kiosk_app import create_app
from kiosk_app.charging import adapters

app = create_app()
adapters.attach_web(app)
