"""Training's navigation and the owner's coaching pages in English and Brazilian
Portuguese (the trainee's own pages keep their words in ``services.training.portal``).

Which one a page speaks is ``shared.web.staff_language``'s to say, and so is how the
words are used (``StaffWords``). What the service layer says (a proposal's reason, a
finding's check, CoachingError's texts) stays as it was written.
"""

from __future__ import annotations

from flask import Flask

from shared.web.staff_language import StaffWords, role_names

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "nav": "Training",
        "nav.team": "Team",
        "nav.onboarding": "Onboarding",
        "nav.playbooks": "Playbooks",
        "nav.reviews": "Reviews",
        "nav.checker": "Reply checker",
        "nav.coaching": "Coaching",
        # the team at a glance
        "coaching.title": "Coaching",
        "coaching.intro": (
            "The last 12 weeks of each person's replies through the checker, the customers' "
            "ratings and the SLA targets met. Open a name for the charts and the tickets "
            "behind a low rating."
        ),
        "coaching.waiting": "Waiting for your decision",
        "name": "Name",
        "role": "Role",
        "supervision": "Supervision",
        "replies": "Replies",
        "findings": "Findings",
        "rating": "Rating",
        "sla_met": "SLA met",
        "held_share": "{share} % held",
        "certified": "certified",
        "none": "none",
        "no_staff": "No staff announced by the desk yet.",
        # one person
        "member.title": "Coaching: {name}",
        "member.held_share": "{share} % of replies held for review",
        "member.off_path": "not on the onboarding path",
        "member.replies.one": "1 reply",
        "member.replies.many": "{count} replies",
        "member.findings.one": "1 finding in 12 weeks",
        "member.findings.many": "{count} findings in 12 weeks",
        "proposal.title": "Back under supervision?",
        "proposal.explain": (
            "{reason}. Confirm and the desk holds half of {name}'s replies for review "
            "again; dismiss and nothing changes."
        ),
        "proposal.note": "Note for {name} (needed to confirm)",
        "confirm": "Confirm",
        "dismiss": "Dismiss",
        "findings.title": "Findings over time",
        "findings.none": "No findings in these 12 weeks.",
        "satisfaction.title": "Satisfaction",
        "satisfaction.average": "Average {rating} of 5.",
        "satisfaction.none": "No ratings yet.",
        "sla.title": "SLA adherence",
        "sla.share": "{share} % of resolved tickets met their targets.",
        "sla.none": "No resolved tickets yet.",
        "low.title": "Low ratings",
        "low.ticket": "Ticket #{ticket}: {rating} of 5",
        "low.broken": "Rules broken in this ticket:",
        "low.nothing_found": (
            "The checker found nothing in the replies of this ticket: read the conversation."
        ),
        "low.none": "No rating of {rating} or less in these 12 weeks.",
        "weeks.title": "Week by week",
        "weeks.of": "Week of",
        "weeks.sla": "{met} of {resolved}",
        "chart.findings": "Findings per week, by rule, for {name}",
        "chart.rating": "Average rating per week (1-5)",
        "chart.sla": "Tickets resolved within their SLA targets, per week",
        # the views' own messages
        "said.decide_how": "Choose to confirm or to dismiss the proposal.",
        "said.confirmed": "Confirmed: their replies are held for review again.",
        "said.dismissed": "Dismissed: nothing changes.",
    },
    "pt-BR": {
        "nav": "Treinamento",
        "nav.team": "Equipe",
        "nav.onboarding": "Integração",
        "nav.playbooks": "Manuais de conduta",
        "nav.reviews": "Revisões",
        "nav.checker": "Verificador de respostas",
        "nav.coaching": "Acompanhamento",
        "coaching.title": "Acompanhamento",
        "coaching.intro": (
            "As últimas 12 semanas das respostas de cada pessoa no verificador, as avaliações "
            "dos clientes e os prazos (SLA) cumpridos. Abra um nome para ver os gráficos e "
            "os chamados por trás de uma avaliação baixa."
        ),
        "coaching.waiting": "Esperando a sua decisão",
        "name": "Nome",
        "role": "Função",
        "supervision": "Supervisão",
        "replies": "Respostas",
        "findings": "Apontamentos",
        "rating": "Avaliação",
        "sla_met": "SLA cumprido",
        "held_share": "{share} % retidas",
        "certified": "certificado",
        "none": "nenhuma",
        "no_staff": "O atendimento ainda não informou ninguém da equipe.",
        "member.title": "Acompanhamento: {name}",
        "member.held_share": "{share} % das respostas retidas para revisão",
        "member.off_path": "fora da trilha de integração",
        "member.replies.one": "1 resposta",
        "member.replies.many": "{count} respostas",
        "member.findings.one": "1 apontamento em 12 semanas",
        "member.findings.many": "{count} apontamentos em 12 semanas",
        "proposal.title": "De volta à supervisão?",
        "proposal.explain": (
            "{reason}. Confirme e o atendimento volta a reter metade das respostas de "
            "{name} para revisão; descarte e nada muda."
        ),
        "proposal.note": "Nota para {name} (necessária para confirmar)",
        "confirm": "Confirmar",
        "dismiss": "Descartar",
        "findings.title": "Apontamentos ao longo do tempo",
        "findings.none": "Nenhum apontamento nestas 12 semanas.",
        "satisfaction.title": "Satisfação",
        "satisfaction.average": "Média {rating} de 5.",
        "satisfaction.none": "Nenhuma avaliação ainda.",
        "sla.title": "Cumprimento do SLA",
        "sla.share": "{share} % dos chamados resolvidos cumpriram os prazos.",
        "sla.none": "Nenhum chamado resolvido ainda.",
        "low.title": "Avaliações baixas",
        "low.ticket": "Chamado #{ticket}: {rating} de 5",
        "low.broken": "Regras quebradas neste chamado:",
        "low.nothing_found": (
            "O verificador não encontrou nada nas respostas deste chamado: leia a conversa."
        ),
        "low.none": "Nenhuma avaliação de {rating} ou menos nestas 12 semanas.",
        "weeks.title": "Semana a semana",
        "weeks.of": "Semana de",
        "weeks.sla": "{met} de {resolved}",
        "chart.findings": "Apontamentos por semana, por regra, de {name}",
        "chart.rating": "Avaliação média por semana (1-5)",
        "chart.sla": "Chamados resolvidos dentro dos prazos do SLA, por semana",
        "said.decide_how": "Escolha confirmar ou descartar a proposta.",
        "said.confirmed": "Confirmado: as respostas voltam a ser retidas para revisão.",
        "said.dismissed": "Descartado: nada muda.",
        # stored values
        **role_names("pt-BR"),
        "severity.block": "bloqueia",
        "severity.warn": "alerta",
    },
}

STAFF_WORDS = StaffWords(WORDS)
say = STAFF_WORDS.say


def speak_on(app: Flask) -> None:
    """Give every page of training's ``app`` the staff member's language and these words:
    the navigation every page carries needs them."""
    app.context_processor(STAFF_WORDS.page_context)
