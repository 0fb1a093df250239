"""The desk's recent days in the demo: tickets from every country, answered through the
reply checker, resolved with cause, fix and prevention, rated; care of the managed
customers; and a trainee's reply waiting for the owner's review.

Each ticket is opened on its day of the past weeks (``TicketStory.opened``), its replies,
resolution and rating follow within the company's hours, each step at its own moment on
the story's clock: the queue's clocks, the resolved record and the ratings read as weeks
of work. What the customers write about is what the year of billing left them with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from cortesia.demo import company
from cortesia.demo.billing_year import Accounts
from cortesia.demo.story import COMPANY_CALENDAR, Story
from services.tickets import care, clocks, lifecycle, replying, resolution, review
from services.tickets.models import CareTask, StaffMember, Ticket


@dataclass(frozen=True)
class Resolution:
    cause: str
    fix: str
    prevention: str


@dataclass(frozen=True)
class TicketStory:
    customer: str
    subject: str
    body: str
    department: str = "support"
    priority: str = "normal"
    emergency: str | None = None
    channel: str = "portal"
    replies: tuple[tuple[company.StaffMember, str], ...] = ()
    note: tuple[company.StaffMember, str] | None = None
    resolved_by: company.StaffMember | None = None
    resolution: Resolution | None = None
    rating: tuple[int, str | None] | None = None
    closed: bool = False
    review_held_reply: bool = False
    """The owner approves the trainee's held reply (otherwise it waits for review)."""
    opened: tuple[int, int] = (0, 9)
    """Business days before today, and the hour (São Paulo) the customer wrote."""
    first_answer_days: int = 0
    """Business days the customer waited for the first answer."""


RAFAEL, LUCIA = company.AGENTS
MARCOS, CAMILA, HELENA = company.BILLING, company.TRAINEE, company.OWNER

TICKETS = (
    # Open: what the queue shows this morning.
    TicketStory(
        "padaria",
        "Site da padaria fora do ar",
        "Bom dia! Desde as sete da manhã o site da padaria mostra um erro 503 e os "
        "clientes não conseguem fazer as encomendas de bolo para o fim de semana. "
        "Podem ver com urgência?",
        priority="urgent",
        emergency="site_down",
        channel="phone",
        replies=(
            (
                RAFAEL,
                "Bom dia, Joana! Sinto muito pelo transtorno logo cedo. Já estou "
                "olhando o servidor do seu site agora mesmo e volto a falar com você "
                "em até 30 minutos com o que encontrar.",
            ),
        ),
        note=(RAFAEL, "O PHP-FPM do servidor 3 parou após a atualização noturna. Reiniciando."),
        opened=(0, 8),
    ),
    TicketStory(
        "almendros",
        "Los correos a nuestros clientes rebotan",
        "Hola, desde ayer los correos que enviamos a algunos clientes vuelven con el "
        "error «550 5.7.1 rejected». Sobre todo a direcciones de Gmail. ¿Qué está pasando?",
        priority="high",
        replies=(
            (
                LUCIA,
                "Hola, Carmen. Gracias por avisarnos y disculpa las molestias. ¿Podrías "
                "reenviarnos uno de los correos devueltos completo, con sus cabeceras? "
                "Con eso vemos qué servidor lo rechaza y por qué.",
            ),
        ),
        opened=(1, 16),
    ),
    TicketStory(
        "guero",
        "Renovación del certificado SSL",
        "Buenas tardes. El navegador me avisa que el certificado de taqueriaelguero.example "
        "vence en cinco días. ¿Se renueva solo o tengo que hacer algo?",
        opened=(2, 15),
    ),
    TicketStory(
        "mare",
        "Apontar o domínio novo da pousada",
        "Olá! Registramos o domínio marealta.example e queremos que ele abra o mesmo "
        "site de reservas. O que preciso mudar no DNS?",
        replies=(
            (
                CAMILA,
                "Olá, Renata! Obrigada pela mensagem. Para o domínio novo abrir o site de "
                "reservas, basta criar no painel do registro um apontamento do tipo A para "
                "o endereço do seu servidor. Se preferir, posso acompanhar a mudança com "
                "você por telefone no horário comercial.",
            ),
        ),
        opened=(1, 11),
    ),
    TicketStory(
        "doremi",
        "Dúvida sobre a fatura deste mês",
        "Boa tarde. Recebi o aviso de fatura vencida, mas eu achava que o débito era "
        "automático. Vocês podem me explicar como pagar e se ainda dá tempo?",
        department="billing",
        replies=(
            (
                MARCOS,
                "Boa tarde, Fábio! Obrigado por escrever. O débito automático não estava "
                "ativo na sua conta, por isso a fatura ficou em aberto. Você pode pagar "
                "por Pix pelo link do e-mail da fatura; assim que o pagamento entrar, a "
                "conta volta ao normal sozinha.",
            ),
        ),
        opened=(3, 14),
    ),
    TicketStory(
        "sebo",
        "Site suspenso: posso pagar no dia 20?",
        "Olá, o site da livraria foi suspenso. Tive um mês difícil, mas consigo pagar "
        "tudo no dia 20. Dá para reativar até lá?",
        department="billing",
        priority="high",
        opened=(0, 9),
    ),
    TicketStory(
        "quintero",
        "Quiero pasar al plan Profesional",
        "Hola, vamos a abrir una segunda sucursal y queremos agendar citas en línea. "
        "¿El plan Profesional alcanza o necesitamos algo más?",
        department="sales",
        priority="low",
        opened=(4, 10),
    ),
    # Resolved and closed: the desk's recent record.
    TicketStory(
        "sorriso",
        "E-mails da clínica caindo no spam",
        "Os pacientes dizem que nossos lembretes de consulta chegam na caixa de spam.",
        replies=(
            (
                RAFAEL,
                "Olá, Patrícia! Obrigado por avisar. Encontrei o motivo: faltava a "
                "assinatura DKIM no seu domínio. Já publiquei o registro e os próximos "
                "lembretes devem chegar na caixa de entrada.",
            ),
        ),
        resolved_by=RAFAEL,
        resolution=Resolution(
            cause="O domínio da clínica não tinha registro DKIM e o SPF não incluía o servidor.",
            fix="Publicamos o DKIM e corrigimos o SPF; testamos o envio para Gmail e Outlook.",
            prevention="Todo domínio novo passa a ser criado com SPF, DKIM e DMARC prontos.",
        ),
        rating=(5, "Resolveram no mesmo dia, obrigada!"),
        closed=True,
        opened=(12, 10),
    ),
    TicketStory(
        "romero",
        "Certificado SSL caducado en la web",
        "Buenos días, la web de la gestoría muestra «conexión no segura».",
        priority="high",
        replies=(
            (
                LUCIA,
                "Buenos días, Pilar. Disculpa las molestias: el certificado no se renovó "
                "porque el dominio apuntaba a un servidor antiguo. Ya está renovado y la "
                "web vuelve a mostrar el candado.",
            ),
        ),
        resolved_by=LUCIA,
        resolution=Resolution(
            cause="El DNS apuntaba a un servidor antiguo y la renovación automática falló.",
            fix="Corregimos el DNS y emitimos un certificado nuevo.",
            prevention="La monitorización avisa ahora 20 días antes de que caduque un certificado.",
        ),
        rating=(4, None),
        closed=True,
        opened=(9, 12),
    ),
    TicketStory(
        "tlaquepaque",
        "No puedo entrar al panel",
        "Olvidé la contraseña del panel y el enlace de recuperación no me llega.",
        replies=(
            (
                LUCIA,
                "Hola, Guadalupe. Gracias por escribirnos. El enlace iba a una dirección "
                "antigua; ya la actualizamos y te enviamos uno nuevo a tu correo actual.",
            ),
        ),
        resolved_by=LUCIA,
        resolution=Resolution(
            cause="La cuenta del panel tenía registrada una dirección de correo antigua.",
            fix="Actualizamos la dirección y enviamos un enlace de recuperación nuevo.",
            prevention="Al abrir una cuenta confirmamos la dirección con un correo de prueba.",
        ),
        rating=(5, "¡Rapidísimo, gracias!"),
        closed=True,
        opened=(7, 14),
    ),
    TicketStory(
        "caldeira",
        "Site da oficina muito lento",
        "O site está demorando quase dez segundos para abrir, principalmente no celular.",
        replies=(
            (
                RAFAEL,
                "Olá, Sérgio! Peço desculpas pela demora em responder, e obrigado pela "
                "paciência. As fotos da galeria estavam "
                "pesadas demais; otimizei as imagens e ativei o cache. Agora a página "
                "abre em cerca de dois segundos.",
            ),
        ),
        resolved_by=RAFAEL,
        resolution=Resolution(
            cause="As fotos da galeria tinham mais de 8 MB cada e não havia cache.",
            fix="Otimizamos as imagens e ativamos o cache de páginas.",
            prevention="O envio de imagens agora reduz fotos grandes automaticamente.",
        ),
        rating=(3, "Melhorou, mas demorou alguns dias para alguém olhar."),
        closed=True,
        opened=(15, 10),
        first_answer_days=2,
    ),
    TicketStory(
        "arado",
        "Como faço uma enquete no site?",
        "Queremos perguntar aos clientes qual projeto eles preferem. Vocês conseguem "
        "montar uma enquete para nós?",
        department="sales",
        replies=(
            (
                RAFAEL,
                "Olá, Tiago! Boa ideia. Montar a enquete fica fora da hospedagem, mas o "
                "caminho é simples: o WordPress do seu site tem plugins de enquete, e a "
                "documentação oficial deles explica o passo a passo. Se surgir qualquer "
                "dúvida sobre a hospedagem no caminho, estamos aqui.",
            ),
        ),
        resolved_by=RAFAEL,
        resolution=Resolution(
            cause="Pedido de uma funcionalidade do site, fora do escopo da hospedagem.",
            fix="Indicamos os plugins de enquete e a documentação para instalar.",
            prevention="Guardamos a resposta como modelo para pedidos parecidos.",
        ),
        rating=(5, None),
        closed=True,
        opened=(5, 12),
    ),
    TicketStory(
        "milpa",
        "Cambio de DNS del dominio",
        "Cambiamos de proveedor de correo y necesitamos actualizar los registros MX.",
        replies=(
            (
                CAMILA,
                "Hola, Rodrigo. Gracias por escribirnos. Ya actualizamos los registros MX "
                "con los datos de tu nuevo proveedor; el cambio puede tardar unas horas "
                "en verse en todo el mundo.",
            ),
        ),
        review_held_reply=True,
        resolved_by=LUCIA,
        resolution=Resolution(
            cause="El cliente cambió de proveedor de correo.",
            fix="Actualizamos los registros MX y comprobamos la entrega.",
            prevention="Dejamos anotados los registros del nuevo proveedor en la ficha.",
        ),
        rating=(5, None),
        closed=True,
        opened=(3, 14),
    ),
)


class Desk:
    def __init__(self, story: Story, accounts: Accounts, public_url: str) -> None:
        self.story = story
        self.accounts = accounts
        self.public_url = public_url
        self.database = story.database("tickets")

    def tell(self) -> None:
        present = self.story.now()
        for ticket in sorted(TICKETS, key=lambda t: self.opened_at(t, present)):
            _Pace(self, ticket, present).tell()
        self.story.move_to(None)
        with self.database.transaction() as session:
            self._care(session)
        self.story.deliver("tickets")

    def opened_at(self, ticket: TicketStory, present: datetime) -> datetime:
        """The ticket's day and hour, on the business day before when that is still ahead
        (the demo started early in the morning)."""
        days, hour = ticket.opened
        today = present.astimezone(COMPANY_CALENDAR.zone).date()
        moment = self.story.at(COMPANY_CALENDAR.business_days_before(today, days), hour)
        if moment >= present:
            moment = self.story.at(COMPANY_CALENDAR.business_days_before(today, days + 1), hour)
        return moment

    def member(self, session: Session, who: company.StaffMember) -> StaffMember:
        return session.execute(
            select(StaffMember).where(StaffMember.email == who.email)
        ).scalar_one()

    def open(self, session: Session, story: TicketStory) -> Ticket:
        customer = company.customer(story.customer)
        return lifecycle.open_ticket(
            session,
            lifecycle.NewTicket(
                subject=story.subject,
                body=story.body,
                requester_email=customer.email,
                requester_name=customer.contact,
                customer_id=self.accounts.customer_ids[customer.key],
                department=story.department,
                priority=story.priority,
                emergency_kind=story.emergency,
                channel=story.channel,
            ),
            actor=f"customer:{customer.email}",
        )

    def reply(
        self,
        session: Session,
        ticket: Ticket,
        author: company.StaffMember,
        text: str,
        *,
        approve: bool,
    ) -> None:
        outcome = replying.reply(session, ticket, self.member(session, author), text)
        if outcome.outcome not in ("sent", "held"):
            raise RuntimeError(f"the checker stopped a demo reply: {outcome.findings}")
        if outcome.outcome == "held" and approve:
            assert outcome.message is not None
            review.approve(session, outcome.message.id, self.member(session, HELENA))

    def resolve(self, session: Session, ticket: Ticket, story: TicketStory) -> None:
        assert story.resolution is not None and story.resolved_by is not None
        resolution.resolve(
            session,
            ticket,
            self.member(session, story.resolved_by),
            cause=story.resolution.cause,
            fix=story.resolution.fix,
            prevention=story.resolution.prevention,
            survey_url=f"{self.public_url}/portal/tickets/{ticket.id}#rate",
            sla_outcome=clocks.resolution_outcome(session),
        )

    def _care(self, session: Session) -> None:
        """P-CADENCE for the managed customers: today's round of tasks, one already done,
        and a referral to follow up (P-REFERRAL)."""
        care.cadence_rounds(session, clocks.company_date())
        rafael = self.member(session, RAFAEL)
        session.flush()
        first_email = (
            session.execute(select(CareTask).where(CareTask.kind == "email").order_by(CareTask.id))
            .scalars()
            .first()
        )
        if first_email is not None:
            care.complete(
                session,
                first_email.id,
                rafael,
                "Perguntei como foram as vendas de fim de ano; querem um cardápio novo em janeiro.",
            )
        care.record_referral(
            session,
            self.accounts.customer_ids["sorriso"],
            "Dr. Henrique Sales (henrique@odontosales.example)",
            rafael,
        )


class _Pace:
    """One ticket told step by step: the customer writes at the ticket's moment, staff
    answer within the company's hours, each step at its own moment and never after the
    present."""

    REPLY_AFTER = timedelta(minutes=35)
    RESOLVED_AFTER = timedelta(hours=2)
    RATED_AFTER = timedelta(hours=3)
    CLOSED_AFTER = timedelta(days=3)

    def __init__(self, desk: Desk, story: TicketStory, present: datetime) -> None:
        self.desk = desk
        self.story = story
        self.present = present
        self.moment = desk.opened_at(story, present)
        self.ticket_id = 0

    def tell(self) -> None:
        story = self.story
        self.desk.story.move_to(self.moment)
        with self.desk.database.transaction() as session:
            self.ticket_id = self.desk.open(session, story).id
        self.desk.story.deliver("tickets")
        if story.first_answer_days:
            day = self.moment.astimezone(COMPANY_CALENDAR.zone).date()
            for _ in range(story.first_answer_days):
                day = COMPANY_CALENDAR.next_business_day(day)
            self._later(self.desk.story.at(day, 10) - self.moment)
        for author, text in story.replies:
            self._later(self.REPLY_AFTER, business=True)
            self._step(
                partial(self.desk.reply, author=author, text=text, approve=story.review_held_reply)
            )
        if story.note is not None:
            author, text = story.note
            self._later(timedelta(minutes=10), business=True)
            self._step(
                lambda session, ticket: lifecycle.add_note(
                    session, ticket, self.desk.member(session, author), text
                )
            )
        if story.resolution is not None and story.resolved_by is not None:
            self._later(self.RESOLVED_AFTER, business=True)
            self._step(lambda session, ticket: self.desk.resolve(session, ticket, story))
        if story.rating is not None:
            rating = story.rating
            self._later(self.RATED_AFTER)
            self._step(lambda session, ticket: resolution.rate(session, ticket, *rating))
        if story.closed and story.resolved_by is not None:
            closer = story.resolved_by.email
            self._later(self.CLOSED_AFTER)
            self._step(
                lambda session, ticket: lifecycle.set_status(session, ticket, "closed", closer)
            )

    def _later(self, wait: timedelta, business: bool = False) -> None:
        moment = self.moment + wait
        if business:
            moment = COMPANY_CALENDAR.next_opening(moment)
        # Never past the present: a step still ahead happened just now.
        self.moment = max(self.moment, min(moment, self.present - timedelta(minutes=1)))

    def _step(self, action: Callable[[Session, Ticket], object]) -> None:
        self.desk.story.move_to(self.moment)
        with self.desk.database.transaction() as session:
            ticket = session.get(Ticket, self.ticket_id)
            assert ticket is not None
            action(session, ticket)
        self.desk.story.deliver("tickets")
