"""Alembic environment: the URL comes from `kiosk_app.migrate`, the schema from the models."""

from alembic import context

import kiosk_app.models  # noqa: F401  (registers every table on Base.metadata)
from kiosk_app.db import Base, make_engine

config = context.config
engine = make_engine(config.attributes["url"])

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying tables
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
engine.dispose()
