"""The words of each ticket in one place for the search on PostgreSQL (SQLite searches
without): its subject, its requester's name and every message, as one ``tsvector``.

A search for every word of a query anywhere in a ticket then asks one GIN index for the
tickets that have them all, instead of matching each word in the subjects and in every
message and intersecting the tickets those matches belong to (a common word is in tens
of thousands of messages). Positions are stripped: the search matches words, not phrases.

Triggers keep the row current whatever writes the ticket or its messages: a new message
adds its words; a message edited, moved by a merge or deleted, and a ticket's subject or
requester's name changed, work out the ticket's words again. They replace the full-text
indexes of 0006, which nothing reads any more. ``services/tickets/search.py`` matches
``ticket_words.words`` with ``plainto_tsquery('simple', ...)``, as the words are made here.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

WORDS_OF = """
CREATE FUNCTION ticket_words_refresh(ticket integer) RETURNS void LANGUAGE sql AS $$
    INSERT INTO ticket_words (ticket_id, words)
    SELECT tickets.id, strip(to_tsvector('simple',
        tickets.subject || ' ' || tickets.requester_name || ' ' || coalesce(
            (SELECT string_agg(body, ' ') FROM messages WHERE messages.ticket_id = tickets.id),
            '')))
    FROM tickets WHERE tickets.id = ticket
    ON CONFLICT (ticket_id) DO UPDATE SET words = excluded.words
$$
"""

TICKET_CHANGED = """
CREATE FUNCTION ticket_words_ticket_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ticket_words_refresh(NEW.id);
    RETURN NULL;
END
$$
"""

MESSAGE_CHANGED = """
CREATE FUNCTION ticket_words_message_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- The common case, and the cheap one: the ticket's words and the message's.
        UPDATE ticket_words SET words = words || strip(to_tsvector('simple', NEW.body))
        WHERE ticket_id = NEW.ticket_id;
        RETURN NULL;
    END IF;
    PERFORM ticket_words_refresh(OLD.ticket_id);
    IF TG_OP = 'UPDATE' AND NEW.ticket_id <> OLD.ticket_id THEN
        PERFORM ticket_words_refresh(NEW.ticket_id);
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE ticket_words ("
        "ticket_id integer PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE, "
        "words tsvector NOT NULL)"
    )
    op.execute(WORDS_OF)
    op.execute(
        "INSERT INTO ticket_words (ticket_id, words) "
        "SELECT tickets.id, strip(to_tsvector('simple', "
        "tickets.subject || ' ' || tickets.requester_name || ' ' || coalesce(bodies.text, ''))) "
        "FROM tickets LEFT JOIN ("
        "SELECT ticket_id, string_agg(body, ' ') AS text FROM messages GROUP BY ticket_id"
        ") AS bodies ON bodies.ticket_id = tickets.id"
    )
    op.execute("CREATE INDEX ix_ticket_words ON ticket_words USING gin (words)")
    op.execute(TICKET_CHANGED)
    op.execute(
        "CREATE TRIGGER ticket_words_of_ticket AFTER INSERT OR UPDATE OF subject, "
        "requester_name ON tickets FOR EACH ROW EXECUTE FUNCTION ticket_words_ticket_changed()"
    )
    op.execute(MESSAGE_CHANGED)
    op.execute(
        "CREATE TRIGGER ticket_words_of_message AFTER INSERT OR UPDATE OF body, ticket_id "
        "OR DELETE ON messages FOR EACH ROW EXECUTE FUNCTION ticket_words_message_changed()"
    )
    op.execute("DROP INDEX ix_messages_body_fts")
    op.execute("DROP INDEX ix_tickets_prose_fts")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE INDEX ix_tickets_prose_fts ON tickets "
        "USING gin (to_tsvector('simple', subject || ' ' || requester_name))"
    )
    op.execute(
        "CREATE INDEX ix_messages_body_fts ON messages USING gin (to_tsvector('simple', body))"
    )
    op.execute("DROP TRIGGER ticket_words_of_message ON messages")
    op.execute("DROP TRIGGER ticket_words_of_ticket ON tickets")
    op.execute("DROP FUNCTION ticket_words_message_changed()")
    op.execute("DROP FUNCTION ticket_words_ticket_changed()")
    op.execute("DROP TABLE ticket_words")
    op.execute("DROP FUNCTION ticket_words_refresh(integer)")
