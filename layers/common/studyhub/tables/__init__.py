"""Core tables: the rows the hot read paths read without the ORM (issue 15).

A read that needs no ORM — the caller of every request, the topics list and detail — runs its
Core statements on these tables and never imports ``sqlalchemy.orm`` or a declarative model: a
function's cold start doesn't pay for them (about 65 ms of CPU here) and a request doesn't build an
ORM ``Session``. The models of these tables (``studyhub.models``) map them as they are
(declarative with an imperative table), so there is one definition of each table, here, on the
one ``MetaData`` the models and the migrations share. The other tables are declared by their models.
"""
