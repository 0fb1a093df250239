"""The reply checker: each check on clear cases in each language, the owner's tuning, and the
labelled set of replies, where every blocking check must meet its precision and recall targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.training.checker import (
    KnownCustomer,
    ReplyChecker,
    ReplyContext,
    default_checker,
    default_lexicon,
)
from services.training.checker.evaluation import (
    PRECISION_TARGET,
    RECALL_TARGET,
    evaluate,
    load_directory,
    load_replies,
)
from services.training.checker.language import detect_language
from services.training.checker.lexicon import LexiconError, with_overrides

DATA = Path(__file__).parents[1] / "data"
DIRECTORY = [
    KnownCustomer(1, "Padaria Pão Dourado", "contato@paodourado.com.br", "paodourado.com.br"),
    KnownCustomer(10, "Greenfield Bikes", "support@greenfieldbikes.com", "greenfieldbikes.com"),
]
CHECKER = ReplyChecker(default_lexicon(), DIRECTORY)


def found(text: str, **context: object) -> set[str]:
    return CHECKER.check(text, ReplyContext(**context)).keys()  # type: ignore[arg-type]


def test_a_kind_complete_resolution_passes_in_each_language() -> None:
    replies = {
        "en": "Hi Ana,\n\nThe site was down because the SSL certificate expired. I renewed it "
        "and the padlock is back. To prevent this, renewal is now automatic and monitored.\n\n"
        "Best regards,\nBia",
        "pt-BR": "Olá, Ana!\n\nO site caiu porque o certificado SSL venceu. Renovei o certificado "
        "e o cadeado voltou. Para evitar que se repita, a renovação agora é monitorada.\n\n"
        "Abraços,\nBia",
        "es": "Hola, Ana:\n\nLa web cayó porque el certificado SSL caducó. Lo renové y el candado "
        "ha vuelto. Para que no vuelva a ocurrir, ahora monitorizamos la renovación.\n\n"
        "Un saludo,\nBia",
    }
    for language, text in replies.items():
        result = CHECKER.check(text, ReplyContext(kind="resolution"))
        assert result.language == language
        assert result.findings == (), (language, result.keys())


def test_a_resolution_names_what_it_lacks() -> None:
    assert found("Hi Ana,\n\nAll solved now.\n\nThanks, Bia", kind="resolution") == {
        "P-RESOLVE:cause",
        "P-RESOLVE:fix",
        "P-RESOLVE:prevention",
    }
    assert found("Hi Ana, all solved now. Thanks, Bia", kind="reply") == set()


def test_shouting_is_capitals_in_a_row_or_repeated_marks_not_acronyms() -> None:
    assert "P-POLITE:shouting" in found("Hi Ana, PLEASE STOP DOING THAT. Thanks")
    assert "P-POLITE:shouting" in found("Hi Ana, it is working now!! Thanks")
    assert (
        found("Hi Ana, the DNS, SSL and PHP settings are fine. I did NOT change the MX. Thanks")
        == set()
    )


def test_blame_and_condescension_are_found_with_or_without_accents() -> None:
    assert "P-POLITE:blame" in found("Olá, o site caiu porque você apagou o banco. Abraços")
    assert "P-POLITE:blame" in found("Ola, o site caiu porque voce apagou o banco. Abracos")
    result = CHECKER.check("Hola, como ya le dije, es muy sencillo. Saludos")
    (finding,) = [f for f in result.findings if f.check == "P-POLITE:condescending"]
    assert finding.evidence == "como ya le dije" and finding.lesson == "p-polite"
    assert finding.message == "Esto suena condescendiente."


def test_an_apology_is_due_only_when_the_customer_waited_past_the_sla() -> None:
    late = "Hi Ana, the mailbox works again. Thanks, Bia"
    assert "P-POLITE:apology" in found(late, waited_past_sla=True)
    assert "P-POLITE:apology" not in found(late)
    assert "P-POLITE:apology" not in found(
        "Hi Ana, sorry for the wait! " + late, waited_past_sla=True
    )


def test_other_customers_are_neither_named_nor_given_away_but_the_recipient_may_be() -> None:
    gossip = "Hi, Greenfield Bikes had the same problem on greenfieldbikes.com. Thanks"
    assert found(gossip, customer_id=1) == {
        "P-NO-GOSSIP:other-customer",
        "P-CONFIDENTIAL:other-customer-data",
    }
    assert found(gossip, customer_id=10) == set()
    assert "P-NO-GOSSIP:other-customer" in found("Olá, a Padaria Pao Dourado também. Abraços")


def test_teach_channels_and_escalation_read_the_context() -> None:
    how_to = "Hi Ana, here is how: open the sheet and add the column. Thanks"
    assert "P-TEACH:reference" in found(how_to, beyond_hosting=True)
    pointed = how_to + " The official guide is at https://support.google.com/docs."
    assert "P-TEACH:reference" not in found(pointed, beyond_hosting=True)

    promise = "Hi Ana, just message me on WhatsApp any time, day or night. Thanks"
    assert "P-CHANNELS:instant-promise" in found(promise)
    assert "P-CHANNELS:instant-promise" not in found(promise, emergency=True)
    assert found("Hi Ana, WhatsApp is only for emergencies, any time of day. Thanks") == set()

    assert "P-ESCALATE:dead-end" in found("Hi Ana, I don't know why it fails. Thanks")
    next_step = "Hi Ana, I don't know yet; I'll research it and write back by 3 pm. Thanks"
    assert "P-ESCALATE:dead-end" not in found(next_step)


def test_the_owner_tunes_severity_phrases_and_numbers() -> None:
    lexicon = with_overrides(
        default_lexicon(),
        {
            "P-POLITE:greeting": {"severity": "off"},
            "P-POLITE:condescending": {"phrases": {"en": ["as per my last email"]}},
            "P-POLITE:shouting": {"numbers": {"capital_words_in_a_row": 2}},
        },
    )
    tuned = ReplyChecker(lexicon)
    result = tuned.check("As per my last email, CHECK THIS. Thanks")
    assert result.keys() == {"P-POLITE:condescending", "P-POLITE:shouting"}
    assert result.blocking
    with pytest.raises(LexiconError, match="severity"):
        with_overrides(default_lexicon(), {"P-POLITE:blame": {"severity": "loud"}})
    with pytest.raises(LexiconError, match="no check"):
        with_overrides(default_lexicon(), {"P-NOTHING:here": {}})


def test_the_language_is_recognised() -> None:
    assert detect_language("Olá, não consegui acessar o painel, você pode ajudar?") == "pt-BR"
    assert detect_language("Hola, no puedo entrar al panel, ¿usted me puede ayudar?") == "es"
    assert detect_language("Hello, I cannot log in to the panel, can you help?") == "en"


def test_the_labelled_set_holds_every_blocking_check_to_its_targets() -> None:
    replies = load_replies(sorted((DATA / "replies").glob("*.jsonl")))
    languages = {reply.language for reply in replies}
    assert len(replies) >= 300 and languages == {"pt-BR", "es", "en"}
    checker = default_checker(load_directory(DATA / "customers.json"))
    result = evaluate(checker, replies)
    for key, settings in default_lexicon().items():
        tally = result.by_check[key]
        assert tally.true_positives + tally.false_negatives >= 20, f"{key} is barely labelled"
        if settings.severity == "block":
            assert tally.precision >= PRECISION_TARGET, (key, tally)
            assert tally.recall >= RECALL_TARGET, (key, tally)
