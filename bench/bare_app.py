"""The web figures' reference: a bare Flask app, a hello page and a form POST inserting one row.

DATABASE_URL=... gunicorn --chdir bench bare_app:app
"""

from __future__ import annotations

import os

from flask import Flask, redirect, request
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

app = Flask(__name__)
engine = create_engine(os.environ["DATABASE_URL"], pool_pre_ping=False)
metadata = MetaData()
rows = Table(
    "bench_bare_rows",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200)),
    Column("body", String(10000)),
)


@app.get("/")
def hello() -> str:
    return "Hello, world!"


@app.post("/")
def form_post() -> object:
    with engine.begin() as connection:
        connection.execute(
            insert(rows).values(
                name=request.form.get("name", ""), body=request.form.get("body", "")
            )
        )
    return redirect("/thanks")


def create_table() -> None:
    metadata.drop_all(engine)
    metadata.create_all(engine)
