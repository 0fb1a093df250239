"""Who the demo company is: its staff, its plans and its customers in Brazil, Spain and
Mexico, each with the way they pay their bills.

Every address is under ``.example`` (RFC 2606): nothing sent to them can reach anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

COMPANY_DOMAIN = "cortesia.example"

BRAZIL = ("pt-BR", "America/Sao_Paulo")
SPAIN = ("es", "Europe/Madrid")
MEXICO = ("es", "America/Mexico_City")


@dataclass(frozen=True)
class StaffMember:
    name: str
    email: str
    role: str


OWNER = StaffMember("Helena Duarte", f"helena@{COMPANY_DOMAIN}", "owner")
AGENTS = (
    StaffMember("Rafael Nogueira", f"rafael@{COMPANY_DOMAIN}", "agent"),
    StaffMember("Lucía Ortega", f"lucia@{COMPANY_DOMAIN}", "agent"),
)
BILLING = StaffMember("Marcos Tavares", f"marcos@{COMPANY_DOMAIN}", "billing")
TRAINEE = StaffMember("Camila Ferraz", f"camila@{COMPANY_DOMAIN}", "trainee")
STAFF = (OWNER, *AGENTS, BILLING, TRAINEE)


@dataclass(frozen=True)
class Plan:
    code: str
    name: str
    price_minor: int
    """In centavos: every plan is sold in reais."""


ESSENTIAL = Plan("essencial", "Hospedagem Essencial", 3990)
PROFESSIONAL = Plan("profissional", "Hospedagem Profissional", 8990)
STORE = Plan("loja", "Loja Virtual", 18990)
PLANS = (ESSENTIAL, PROFESSIONAL, STORE)


class Habit(Enum):
    """How a customer pays, which is what their year of invoices shows."""

    PUNCTUAL = "pays every invoice in the days before it falls due"
    BEHIND = "paid all year, but this month's invoice is a few days overdue"
    STOPPED = "stopped paying: suspended for non-payment, still owing"
    GRACED = "was suspended once, had the one grace, and paid on the promised date"


@dataclass(frozen=True)
class Customer:
    key: str
    """A short name the rest of the story uses to find the customer."""
    name: str
    contact: str
    email: str
    country: tuple[str, str]
    """(language, timezone)."""
    plan: Plan
    months: int
    """How long they have been with the company, in whole months."""
    days_since_renewal: int
    """Days since their last monthly anniversary: when the latest invoice fell due."""
    habit: Habit = Habit.PUNCTUAL
    managed: bool = False

    @property
    def language(self) -> str:
        return self.country[0]

    @property
    def timezone(self) -> str:
        return self.country[1]


GRACE_MONTH = 7
"""The month of the graced customer's tenure whose invoice went unpaid."""

CUSTOMERS = (
    Customer(
        "padaria",
        "Padaria Pão de Mel",
        "Joana Ribeiro",
        "joana@paodemel.example",
        BRAZIL,
        STORE,
        12,
        9,
        managed=True,
    ),
    Customer(
        "arado",
        "Estúdio Arado Arquitetura",
        "Tiago Mendes",
        "tiago@arado.example",
        BRAZIL,
        PROFESSIONAL,
        12,
        21,
    ),
    Customer(
        "sorriso",
        "Clínica Sorriso Leve",
        "Patrícia Lemos",
        "contato@sorrisoleve.example",
        BRAZIL,
        PROFESSIONAL,
        12,
        4,
        managed=True,
    ),
    Customer(
        "sebo",
        "Livraria Sebo do Largo",
        "Otávio Brandão",
        "otavio@sebodolargo.example",
        BRAZIL,
        ESSENTIAL,
        12,
        17,
        Habit.STOPPED,
    ),
    Customer(
        "caldeira",
        "Oficina Irmãos Caldeira",
        "Sérgio Caldeira",
        "sergio@irmaoscaldeira.example",
        BRAZIL,
        ESSENTIAL,
        12,
        13,
        Habit.GRACED,
    ),
    Customer(
        "mare",
        "Pousada Maré Alta",
        "Renata Figueiredo",
        "reservas@marealta.example",
        BRAZIL,
        PROFESSIONAL,
        10,
        25,
    ),
    Customer(
        "doremi",
        "Escola de Música Dó Ré Mi",
        "Fábio Antunes",
        "fabio@escoladoremi.example",
        BRAZIL,
        ESSENTIAL,
        12,
        2,
        Habit.BEHIND,
    ),
    Customer(
        "almendros",
        "Bodega Los Almendros",
        "Carmen Vidal",
        "carmen@losalmendros.example",
        SPAIN,
        STORE,
        12,
        11,
    ),
    Customer(
        "barro",
        "Taller de Cerámica Barro y Fuego",
        "Iñaki Etxeberria",
        "inaki@barroyfuego.example",
        SPAIN,
        ESSENTIAL,
        9,
        3,
        Habit.BEHIND,
    ),
    Customer(
        "romero",
        "Gestoría Romero y Asociados",
        "Pilar Romero",
        "pilar@gestoriaromero.example",
        SPAIN,
        PROFESSIONAL,
        12,
        19,
        managed=True,
    ),
    Customer(
        "guero",
        "Taquería El Güero",
        "Alejandro Zamora",
        "alejandro@taqueriaelguero.example",
        MEXICO,
        ESSENTIAL,
        11,
        7,
    ),
    Customer(
        "quintero",
        "Consultorio Dental Sonrisa Norte",
        "Mariana Quintero",
        "mariana@sonrisanorte.example",
        MEXICO,
        PROFESSIONAL,
        12,
        15,
    ),
    Customer(
        "tlaquepaque",
        "Café Tlaquepaque",
        "Guadalupe Herrera",
        "lupita@cafetlaquepaque.example",
        MEXICO,
        ESSENTIAL,
        3,
        12,
    ),
    Customer(
        "milpa",
        "Mezcalería La Milpa",
        "Rodrigo Salazar",
        "rodrigo@lamilpa.example",
        MEXICO,
        STORE,
        12,
        23,
    ),
)


def customer(key: str) -> Customer:
    return next(c for c in CUSTOMERS if c.key == key)
