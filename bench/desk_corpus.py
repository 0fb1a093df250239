"""What the desk benchmark's tickets say: a hosting company's customers writing in Brazilian
Portuguese, Spanish and English, and its staff answering them.

Each topic has subjects and customer sentences in the three languages, and the cause, fix
and prevention staff write when they resolve it. Placeholders (``{domain}``, ``{product}``,
``{client}``...) are filled per ticket from the lists below, so the same topic reads
differently from ticket to ticket and a search word is found in some tickets, not all.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

LANGUAGES = ("pt-BR", "es", "en")


@dataclass(frozen=True)
class Topic:
    key: str
    department: str
    emergency_kind: str | None
    """The emergency this topic can be (P-REACH), or None."""
    subjects: dict[str, tuple[str, ...]]
    sentences: dict[str, tuple[str, ...]]
    resolution: dict[str, tuple[str, str, str]]
    """Cause, fix and prevention, per language; the fix is also the reply that solved it."""


TOPICS = (
    Topic(
        "site_down",
        "support",
        "site_down",
        {
            "pt-BR": (
                "Site fora do ar: {domain}",
                "{domain} não abre desde {when}",
                "Erro {code} ao acessar {domain}",
            ),
            "es": (
                "Sitio caído: {domain}",
                "{domain} no carga desde {when}",
                "Error {code} al entrar en {domain}",
            ),
            "en": (
                "Site down: {domain}",
                "{domain} not loading since {when}",
                "{code} on {domain}",
            ),
        },
        {
            "pt-BR": (
                "Meu site {domain} está fora do ar desde {when}.",
                "Aparece a mensagem de erro {code} quando tento abrir a página inicial.",
                "Os clientes estão ligando porque a loja virtual não carrega.",
                "Já reiniciei o roteador e testei em outro computador, continua igual.",
            ),
            "es": (
                "Mi sitio {domain} está caído desde {when}.",
                "Sale el error {code} cuando intento abrir la página principal.",
                "Los clientes nos llaman porque la tienda en línea no carga.",
                "Ya reinicié el router y probé desde otro ordenador, sigue igual.",
            ),
            "en": (
                "My site {domain} has been down since {when}.",
                "I get a {code} error when I open the home page.",
                "Customers are calling because the online shop does not load.",
                "I restarted the router and tried another computer, same thing.",
            ),
        },
        {
            "pt-BR": (
                "O servidor {server} ficou sem memória e o PHP parou de responder.",
                "Reiniciamos o PHP no servidor {server} e o site {domain} voltou a abrir.",
                "Aumentamos o limite de memória e ativamos o alerta de disponibilidade.",
            ),
            "es": (
                "El servidor {server} se quedó sin memoria y PHP dejó de responder.",
                "Reiniciamos PHP en el servidor {server} y el sitio {domain} volvió a cargar.",
                "Subimos el límite de memoria y activamos la alerta de disponibilidad.",
            ),
            "en": (
                "Server {server} ran out of memory and PHP stopped answering.",
                "We restarted PHP on {server} and {domain} is loading again.",
                "We raised the memory limit and turned on the uptime alert.",
            ),
        },
    ),
    Topic(
        "wordpress",
        "support",
        None,
        {
            "pt-BR": (
                "Erro no {product} depois de atualizar um plugin",
                "Tela branca no painel do {product}",
                "{product} pedindo para atualizar o PHP",
            ),
            "es": (
                "Error en {product} después de actualizar un plugin",
                "Pantalla blanca en el panel de {product}",
                "{product} pide actualizar PHP",
            ),
            "en": (
                "{product} broken after a plugin update",
                "White screen in the {product} dashboard",
                "{product} asks me to upgrade PHP",
            ),
        },
        {
            "pt-BR": (
                "Depois de atualizar um plugin, o {product} mostra só uma tela branca.",
                "Não consigo entrar no wp-admin, a página fica carregando.",
                "O tema parou de funcionar depois da atualização para o PHP {php}.",
                "Tentei desativar os plugins pelo gerenciador de arquivos e não achei a pasta.",
            ),
            "es": (
                "Después de actualizar un plugin, {product} muestra solo una pantalla blanca.",
                "No puedo entrar en wp-admin, la página se queda cargando.",
                "La plantilla dejó de funcionar tras actualizar a PHP {php}.",
                "Intenté desactivar los plugins desde el administrador de archivos, sin suerte.",
            ),
            "en": (
                "After updating a plugin, {product} only shows a white screen.",
                "I cannot log in to wp-admin, the page keeps loading.",
                "The theme stopped working after the upgrade to PHP {php}.",
                "I tried to disable the plugins from the file manager but found no folder.",
            ),
        },
        {
            "pt-BR": (
                "Um plugin de cache incompatível com o PHP {php}.",
                "Desativamos o plugin de cache e limpamos o diretório de cache do {product}.",
                "Ativamos o modo de recuperação, que avisa por e-mail antes de travar o painel.",
            ),
            "es": (
                "Un plugin de caché incompatible con PHP {php}.",
                "Desactivamos el plugin de caché y vaciamos la carpeta de caché de {product}.",
                "Activamos el modo de recuperación, que avisa por correo antes de bloquear.",
            ),
            "en": (
                "A cache plugin that does not work with PHP {php}.",
                "We disabled the cache plugin and emptied the {product} cache folder.",
                "We turned on recovery mode, which emails you before the dashboard locks up.",
            ),
        },
    ),
    Topic(
        "email_send",
        "support",
        "email_down",
        {
            "pt-BR": (
                "Não consigo enviar e-mails pelo {client}",
                "E-mails voltando com erro {smtp}",
                "Caixa de entrada cheia em {mailbox}",
            ),
            "es": (
                "No puedo enviar correos desde {client}",
                "Los correos rebotan con el error {smtp}",
                "Buzón lleno en {mailbox}",
            ),
            "en": (
                "Cannot send email from {client}",
                "Emails bouncing with {smtp}",
                "Mailbox {mailbox} is full",
            ),
        },
        {
            "pt-BR": (
                "Consigo receber mensagens, mas não consigo enviar pelo {client}.",
                "As mensagens voltam com o erro {smtp}.",
                "Configurei a porta 587 com autenticação, como está no tutorial.",
                "A conta {mailbox} diz que a caixa está cheia, mas apaguei quase tudo.",
            ),
            "es": (
                "Recibo los mensajes pero no puedo enviar desde {client}.",
                "Los mensajes vuelven con el error {smtp}.",
                "Configuré el puerto 587 con autenticación, como dice el tutorial.",
                "La cuenta {mailbox} dice que el buzón está lleno, pero borré casi todo.",
            ),
            "en": (
                "I can receive mail but I cannot send from {client}.",
                "Messages come back with the error {smtp}.",
                "I set port 587 with authentication, as the guide says.",
                "The account {mailbox} says it is full, but I deleted almost everything.",
            ),
        },
        {
            "pt-BR": (
                "A senha da conta {mailbox} foi trocada e o {client} guardava a antiga.",
                "Atualizamos a senha no {client} e reenviamos a fila de mensagens presas.",
                "Mandamos o guia de configuração com a porta 587 e a autenticação SMTP.",
            ),
            "es": (
                "La contraseña de {mailbox} cambió y {client} guardaba la anterior.",
                "Actualizamos la contraseña en {client} y reenviamos la cola retenida.",
                "Enviamos la guía de configuración con el puerto 587 y autenticación SMTP.",
            ),
            "en": (
                "The password of {mailbox} changed and {client} kept the old one.",
                "We updated the password in {client} and re-sent the held queue.",
                "We sent the setup guide with port 587 and SMTP authentication.",
            ),
        },
    ),
    Topic(
        "ssl",
        "support",
        None,
        {
            "pt-BR": (
                "Certificado SSL expirado em {domain}",
                "Navegador diz que {domain} não é seguro",
                "Cadeado sumiu do site {domain}",
            ),
            "es": (
                "Certificado SSL caducado en {domain}",
                "El navegador dice que {domain} no es seguro",
                "Desapareció el candado de {domain}",
            ),
            "en": (
                "SSL certificate expired on {domain}",
                "Browser says {domain} is not secure",
                "Padlock gone from {domain}",
            ),
        },
        {
            "pt-BR": (
                "O navegador mostra um aviso de certificado expirado em {domain}.",
                "O certificado Let's Encrypt deveria renovar sozinho, não?",
                "Os visitantes estão vendo a mensagem de site não seguro.",
                "Instalei um certificado comprado em outra empresa e não sei se está certo.",
            ),
            "es": (
                "El navegador muestra un aviso de certificado caducado en {domain}.",
                "El certificado de Let's Encrypt debería renovarse solo, ¿no?",
                "Los visitantes ven el mensaje de sitio no seguro.",
                "Instalé un certificado comprado en otra empresa y no sé si está bien.",
            ),
            "en": (
                "The browser warns that the certificate of {domain} has expired.",
                "The Let's Encrypt certificate should renew itself, right?",
                "Visitors see the not secure warning.",
                "I installed a certificate bought elsewhere and I am not sure it is right.",
            ),
        },
        {
            "pt-BR": (
                "O domínio {domain} apontava para outro servidor e a renovação falhou.",
                "Emitimos um novo certificado para {domain} e o cadeado voltou.",
                "Ativamos o aviso de renovação com 14 dias de antecedência.",
            ),
            "es": (
                "El dominio {domain} apuntaba a otro servidor y la renovación falló.",
                "Emitimos un certificado nuevo para {domain} y volvió el candado.",
                "Activamos el aviso de renovación con 14 días de antelación.",
            ),
            "en": (
                "{domain} pointed to another server, so the renewal failed.",
                "We issued a new certificate for {domain} and the padlock is back.",
                "We turned on the renewal warning 14 days ahead.",
            ),
        },
    ),
    Topic(
        "dns",
        "support",
        None,
        {
            "pt-BR": (
                "Como apontar o domínio {domain}",
                "Registro MX de {domain} não propaga",
                "Mudança de DNS para {domain}",
            ),
            "es": (
                "Cómo apuntar el dominio {domain}",
                "El registro MX de {domain} no propaga",
                "Cambio de DNS para {domain}",
            ),
            "en": (
                "How to point {domain} to you",
                "MX record for {domain} not propagating",
                "DNS change for {domain}",
            ),
        },
        {
            "pt-BR": (
                "Comprei o domínio {domain} em outro registrador e preciso apontar para vocês.",
                "Alterei o registro MX há dois dias e os e-mails ainda vão para o servidor antigo.",
                "Quais são os servidores de DNS que devo colocar no registro.br?",
                "Preciso criar um CNAME para a loja no subdomínio loja.{domain}.",
            ),
            "es": (
                "Compré el dominio {domain} en otro registrador y necesito apuntarlo a ustedes.",
                "Cambié el registro MX hace dos días y el correo sigue yendo al servidor viejo.",
                "¿Qué servidores DNS tengo que poner en el registrador?",
                "Necesito un CNAME para la tienda en el subdominio tienda.{domain}.",
            ),
            "en": (
                "I bought {domain} at another registrar and need to point it to you.",
                "I changed the MX record two days ago and mail still goes to the old server.",
                "Which name servers should I enter at the registrar?",
                "I need a CNAME for the shop at shop.{domain}.",
            ),
        },
        {
            "pt-BR": (
                "O registro MX antigo tinha TTL de uma semana.",
                "Corrigimos a zona DNS de {domain} e baixamos o TTL para uma hora.",
                "Deixamos um roteiro de mudança de DNS com o TTL reduzido antes da troca.",
            ),
            "es": (
                "El registro MX anterior tenía un TTL de una semana.",
                "Corregimos la zona DNS de {domain} y bajamos el TTL a una hora.",
                "Dejamos una guía de cambio de DNS que baja el TTL antes del cambio.",
            ),
            "en": (
                "The old MX record had a TTL of one week.",
                "We fixed the DNS zone of {domain} and lowered the TTL to one hour.",
                "We wrote down a DNS change checklist that lowers the TTL first.",
            ),
        },
    ),
    Topic(
        "billing",
        "billing",
        None,
        {
            "pt-BR": (
                "Cobrança em duplicidade na fatura {invoice}",
                "Boleto pago e serviço suspenso",
                "Pedido de reembolso da fatura {invoice}",
            ),
            "es": (
                "Cobro duplicado en la factura {invoice}",
                "Pagué la factura y el servicio sigue suspendido",
                "Solicitud de reembolso de la factura {invoice}",
            ),
            "en": (
                "Charged twice on invoice {invoice}",
                "Paid but the service is still suspended",
                "Refund request for invoice {invoice}",
            ),
        },
        {
            "pt-BR": (
                "Fui cobrado duas vezes na fatura {invoice} deste mês.",
                "Paguei o boleto {when} e o serviço continua suspenso.",
                "Gostaria de pedir o reembolso da cobrança duplicada no cartão.",
                "Segue o comprovante do pagamento em anexo.",
            ),
            "es": (
                "Me cobraron dos veces la factura {invoice} de este mes.",
                "Pagué la factura {when} y el servicio sigue suspendido.",
                "Quisiera el reembolso del cobro duplicado en la tarjeta.",
                "Adjunto el comprobante de pago.",
            ),
            "en": (
                "I was charged twice for invoice {invoice} this month.",
                "I paid {when} and the service is still suspended.",
                "I would like a refund of the duplicate card charge.",
                "The payment receipt is attached.",
            ),
        },
        {
            "pt-BR": (
                "O pagamento da fatura {invoice} foi processado duas vezes pela operadora.",
                "Estornamos a cobrança duplicada e reativamos o serviço.",
                "Passamos a conferir pagamentos repetidos antes de suspender uma conta.",
            ),
            "es": (
                "El pago de la factura {invoice} se procesó dos veces en la pasarela.",
                "Devolvimos el cobro duplicado y reactivamos el servicio.",
                "Ahora revisamos los pagos repetidos antes de suspender una cuenta.",
            ),
            "en": (
                "The payment for invoice {invoice} went through twice at the gateway.",
                "We refunded the duplicate charge and reactivated the service.",
                "We now check for repeated payments before suspending an account.",
            ),
        },
    ),
    Topic(
        "slow",
        "support",
        None,
        {
            "pt-BR": (
                "Site muito lento",
                "{domain} demora para carregar",
                "Painel de controle lento",
            ),
            "es": ("Sitio muy lento", "{domain} tarda en cargar", "Panel de control lento"),
            "en": ("Site very slow", "{domain} takes ages to load", "Control panel slow"),
        },
        {
            "pt-BR": (
                "O site {domain} está demorando mais de dez segundos para carregar.",
                "A lentidão acontece principalmente à noite, quando temos mais acessos.",
                "O painel de controle também está lento para abrir o gerenciador de arquivos.",
                "Será que o plano {plan} não dá conta do tráfego?",
            ),
            "es": (
                "El sitio {domain} tarda más de diez segundos en cargar.",
                "La lentitud es sobre todo por la noche, cuando hay más visitas.",
                "El panel de control también va lento al abrir el administrador de archivos.",
                "¿Será que el plan {plan} no aguanta el tráfico?",
            ),
            "en": (
                "{domain} takes more than ten seconds to load.",
                "It is slowest in the evening, when we get the most visitors.",
                "The control panel is also slow to open the file manager.",
                "Is the {plan} plan too small for our traffic?",
            ),
        },
        {
            "pt-BR": (
                "Um robô de busca fazia centenas de acessos por minuto ao site.",
                "Bloqueamos o robô e ativamos o cache de páginas do {product}.",
                "Configuramos um limite de acessos por endereço no servidor {server}.",
            ),
            "es": (
                "Un robot de búsqueda hacía cientos de visitas por minuto.",
                "Bloqueamos el robot y activamos la caché de páginas de {product}.",
                "Configuramos un límite de peticiones por dirección en {server}.",
            ),
            "en": (
                "A crawler was making hundreds of requests a minute.",
                "We blocked the crawler and turned on the {product} page cache.",
                "We set a per-address rate limit on {server}.",
            ),
        },
    ),
    Topic(
        "backup",
        "support",
        "data_at_risk",
        {
            "pt-BR": (
                "Restaurar backup de {when}",
                "Apaguei arquivos por engano",
                "Backup do banco de dados de {domain}",
            ),
            "es": (
                "Restaurar la copia de seguridad de {when}",
                "Borré archivos por error",
                "Copia de la base de datos de {domain}",
            ),
            "en": (
                "Restore the backup from {when}",
                "Deleted files by mistake",
                "Backup of {domain}",
            ),
        },
        {
            "pt-BR": (
                "Apaguei por engano a pasta de imagens do site {domain}.",
                "Preciso restaurar o backup de {when}, antes da alteração.",
                "O backup automático aparece com erro no painel.",
                "Vocês guardam cópia do banco de dados por quantos dias?",
            ),
            "es": (
                "Borré por error la carpeta de imágenes de {domain}.",
                "Necesito restaurar la copia de {when}, antes del cambio.",
                "La copia automática aparece con error en el panel.",
                "¿Cuántos días guardan copia de la base de datos?",
            ),
            "en": (
                "I deleted the images folder of {domain} by mistake.",
                "I need the backup from {when}, before the change.",
                "The automatic backup shows an error in the panel.",
                "How many days of database backups do you keep?",
            ),
        },
        {
            "pt-BR": (
                "A pasta foi apagada pelo gerenciador de arquivos.",
                "Restauramos a pasta a partir do backup noturno do servidor {server}.",
                "Ativamos a lixeira do gerenciador de arquivos por 30 dias.",
            ),
            "es": (
                "La carpeta se borró desde el administrador de archivos.",
                "Restauramos la carpeta desde la copia nocturna de {server}.",
                "Activamos la papelera del administrador de archivos por 30 días.",
            ),
            "en": (
                "The folder was deleted from the file manager.",
                "We restored the folder from the nightly backup of {server}.",
                "We turned on the file manager's 30-day bin.",
            ),
        },
    ),
    Topic(
        "upgrade",
        "sales",
        None,
        {
            "pt-BR": (
                "Quero migrar para o plano {plan}",
                "Dúvida sobre o plano {plan}",
                "Mais espaço em disco para {domain}",
            ),
            "es": (
                "Quiero pasar al plan {plan}",
                "Duda sobre el plan {plan}",
                "Más espacio para {domain}",
            ),
            "en": (
                "Upgrade to the {plan} plan",
                "Question about the {plan} plan",
                "More disk for {domain}",
            ),
        },
        {
            "pt-BR": (
                "Gostaria de saber a diferença entre o meu plano e o plano {plan}.",
                "O espaço em disco está quase no limite.",
                "Se eu mudar de plano agora, pago só a diferença?",
                "Preciso de mais contas de e-mail para a equipe nova.",
            ),
            "es": (
                "Quisiera saber la diferencia entre mi plan y el plan {plan}.",
                "El espacio en disco está casi al límite.",
                "Si cambio de plan ahora, ¿pago solo la diferencia?",
                "Necesito más cuentas de correo para el equipo nuevo.",
            ),
            "en": (
                "What is the difference between my plan and the {plan} plan?",
                "The disk is almost full.",
                "If I change plans now, do I only pay the difference?",
                "I need more mailboxes for the new team.",
            ),
        },
        {
            "pt-BR": (
                "O plano atual não tinha espaço para os backups do cliente.",
                "Mudamos a conta para o plano {plan}, cobrando só a diferença proporcional.",
                "Ativamos o aviso de espaço em disco aos 80 %.",
            ),
            "es": (
                "El plan actual no tenía espacio para las copias del cliente.",
                "Pasamos la cuenta al plan {plan}, cobrando solo la diferencia.",
                "Activamos el aviso de espacio en disco al 80 %.",
            ),
            "en": (
                "The current plan had no room for the customer's backups.",
                "We moved the account to the {plan} plan, charging only the difference.",
                "We turned on the disk space warning at 80 %.",
            ),
        },
    ),
    Topic(
        "spam",
        "support",
        "security",
        {
            "pt-BR": (
                "E-mails caindo no spam",
                "Configurar SPF e DKIM para {domain}",
                "Domínio {domain} em lista de bloqueio",
            ),
            "es": (
                "Los correos llegan a spam",
                "Configurar SPF y DKIM para {domain}",
                "Dominio {domain} en una lista negra",
            ),
            "en": (
                "Emails landing in spam",
                "Set up SPF and DKIM for {domain}",
                "{domain} blocklisted",
            ),
        },
        {
            "pt-BR": (
                "Os e-mails que enviamos para clientes estão caindo na caixa de spam.",
                "Preciso configurar SPF, DKIM e DMARC para o domínio {domain}.",
                "Um cliente disse que nosso servidor está em uma lista de bloqueio.",
                "O Gmail marca nossas mensagens como suspeitas.",
            ),
            "es": (
                "Los correos que mandamos a los clientes llegan a la carpeta de spam.",
                "Necesito configurar SPF, DKIM y DMARC para el dominio {domain}.",
                "Un cliente dice que nuestro servidor está en una lista negra.",
                "Gmail marca nuestros mensajes como sospechosos.",
            ),
            "en": (
                "The emails we send to customers land in the spam folder.",
                "I need SPF, DKIM and DMARC set up for {domain}.",
                "A customer says our server is on a blocklist.",
                "Gmail flags our messages as suspicious.",
            ),
        },
        {
            "pt-BR": (
                "O domínio {domain} não tinha registros SPF nem DKIM.",
                "Publicamos SPF, DKIM e DMARC e pedimos a retirada da lista de bloqueio.",
                "Ativamos o relatório DMARC semanal para a conta {mailbox}.",
            ),
            "es": (
                "El dominio {domain} no tenía registros SPF ni DKIM.",
                "Publicamos SPF, DKIM y DMARC y pedimos salir de la lista negra.",
                "Activamos el informe DMARC semanal para {mailbox}.",
            ),
            "en": (
                "{domain} had no SPF or DKIM records.",
                "We published SPF, DKIM and DMARC and asked for delisting.",
                "We turned on the weekly DMARC report for {mailbox}.",
            ),
        },
    ),
    Topic(
        "cancel",
        "billing",
        None,
        {
            "pt-BR": (
                "Cancelar a hospedagem de {domain}",
                "Quero cancelar minha conta",
                "Cancelamento do plano {plan}",
            ),
            "es": (
                "Cancelar el alojamiento de {domain}",
                "Quiero dar de baja mi cuenta",
                "Baja del plan {plan}",
            ),
            "en": (
                "Cancel hosting for {domain}",
                "I want to close my account",
                "Cancel the {plan} plan",
            ),
        },
        {
            "pt-BR": (
                "Gostaria de cancelar a hospedagem do site {domain}.",
                "Vamos fechar a empresa e não precisamos mais do serviço.",
                "Como faço para levar meus arquivos antes do cancelamento?",
                "Não quero que a próxima fatura seja cobrada.",
            ),
            "es": (
                "Quisiera cancelar el alojamiento del sitio {domain}.",
                "Vamos a cerrar la empresa y ya no necesitamos el servicio.",
                "¿Cómo me llevo mis archivos antes de la baja?",
                "No quiero que se cobre la próxima factura.",
            ),
            "en": (
                "I would like to cancel the hosting of {domain}.",
                "We are closing the business and no longer need the service.",
                "How do I take my files before the cancellation?",
                "I do not want the next invoice charged.",
            ),
        },
        {
            "pt-BR": (
                "O cliente vai encerrar a empresa.",
                "Cancelamos no fim do período pago e enviamos o backup completo de {domain}.",
                "Registramos o motivo para a revisão mensal de cancelamentos.",
            ),
            "es": (
                "El cliente cierra la empresa.",
                "Cancelamos al final del periodo pagado y enviamos la copia completa de {domain}.",
                "Anotamos el motivo para la revisión mensual de bajas.",
            ),
            "en": (
                "The customer is closing the business.",
                "We cancelled at the end of the paid period and sent a full backup of {domain}.",
                "We noted the reason for the monthly cancellation review.",
            ),
        },
    ),
)

GREETINGS = {
    "pt-BR": ("Olá,", "Bom dia,", "Boa tarde,", "Oi, pessoal,", "Prezados,"),
    "es": ("Hola,", "Buenos días,", "Buenas tardes,", "Estimados,"),
    "en": ("Hello,", "Hi,", "Good morning,", "Hi team,"),
}
CLOSINGS = {
    "pt-BR": ("Obrigado.", "Aguardo retorno.", "Fico no aguardo, obrigada.", "Abraços,"),
    "es": ("Gracias.", "Quedo atento.", "Espero su respuesta, gracias.", "Saludos,"),
    "en": ("Thanks.", "Looking forward to your answer.", "Thank you,", "Regards,"),
}
DETAILS = {
    "pt-BR": (
        "Isso começou {when}.",
        "Já limpei o cache do navegador.",
        "Meu plano é o {plan}.",
        "Uso o {product} há uns três anos.",
        "É urgente, estamos perdendo vendas.",
        "Não mexi em nada no servidor.",
    ),
    "es": (
        "Empezó {when}.",
        "Ya borré la caché del navegador.",
        "Mi plan es el {plan}.",
        "Uso {product} desde hace unos tres años.",
        "Es urgente, estamos perdiendo ventas.",
        "No toqué nada en el servidor.",
    ),
    "en": (
        "It started {when}.",
        "I already cleared the browser cache.",
        "I am on the {plan} plan.",
        "I have used {product} for about three years.",
        "This is urgent, we are losing sales.",
        "I did not change anything on the server.",
    ),
}
FOLLOW_UPS = {
    "pt-BR": (
        "Ainda não funcionou.",
        "Fiz o que vocês sugeriram, mas o problema continua.",
        "Agora funcionou em parte, mas o {product} continua com erro.",
        "Segue o print do erro {code}.",
        "Vocês conseguem ver isso hoje?",
        "Testei de novo {when} e deu o mesmo erro.",
    ),
    "es": (
        "Todavía no funciona.",
        "Hice lo que me dijeron, pero el problema sigue.",
        "Ahora funciona a medias, pero {product} sigue con error.",
        "Adjunto captura del error {code}.",
        "¿Lo pueden revisar hoy?",
        "Probé otra vez {when} y salió el mismo error.",
    ),
    "en": (
        "Still not working.",
        "I did what you suggested but the problem is still there.",
        "It partly works now, but {product} still shows an error.",
        "Here is a screenshot of the {code} error.",
        "Can you look at it today?",
        "I tried again {when} and got the same error.",
    ),
}
STAFF_OPENINGS = {
    "pt-BR": ("Olá, {name}!", "Oi, {name}, tudo bem?", "Bom dia, {name}."),
    "es": ("Hola, {name}.", "Buenos días, {name}.", "Hola {name}, ¿qué tal?"),
    "en": ("Hi {name},", "Hello {name},", "Good morning {name},"),
}
STAFF_MIDDLES = {
    "pt-BR": (
        "Obrigado por avisar.",
        "Verificamos o servidor {server} e encontramos a causa.",
        "Pode testar novamente, por favor?",
        "Pode nos mandar um print da mensagem que aparece?",
        "Deixamos um passo a passo na nossa central de ajuda.",
    ),
    "es": (
        "Gracias por avisarnos.",
        "Revisamos el servidor {server} y encontramos la causa.",
        "¿Puede probar de nuevo, por favor?",
        "¿Nos envía una captura del mensaje que aparece?",
        "Dejamos una guía paso a paso en nuestro centro de ayuda.",
    ),
    "en": (
        "Thanks for letting us know.",
        "We checked server {server} and found the cause.",
        "Could you try again, please?",
        "Could you send us a screenshot of the message?",
        "There is a step-by-step guide in our help centre.",
    ),
}
STAFF_CLOSINGS = {
    "pt-BR": (
        "Abraços, {agent}",
        "Atenciosamente, {agent}, Suporte",
        "Qualquer dúvida, estou aqui. {agent}",
    ),
    "es": (
        "Saludos, {agent}",
        "Un saludo, {agent}, Soporte",
        "Cualquier duda, aquí estoy. {agent}",
    ),
    "en": ("Best, {agent}", "Kind regards, {agent}, Support", "Any questions, just reply. {agent}"),
}
NOTES = (
    "Cliente já teve esse problema antes; verificar os logs do {server}.",
    "Conferi o {server}: disco em 91 %, avisar infraestrutura.",
    "Cliente pediu retorno por telefone depois das 15h.",
    "Possível conta comprometida, checar acessos ao painel.",
    "Escalado para o time de e-mail, aguardando resposta.",
)
RATING_COMMENTS = {
    "pt-BR": ("Atendimento rápido, obrigado!", "Resolveram, mas demorou.", "Ótimo suporte."),
    "es": ("Atención rápida, ¡gracias!", "Lo resolvieron, pero tardaron.", "Muy buen soporte."),
    "en": ("Quick help, thanks!", "Fixed, but it took a while.", "Great support."),
}

FIRST_NAMES = {
    "pt-BR": ("Ana", "João", "Mariana", "Carlos", "Beatriz", "Rafael", "Juliana", "Pedro",
              "Fernanda", "Lucas", "Camila", "Gustavo", "Patrícia", "Thiago", "Larissa"),
    "es": ("Lucía", "Javier", "Sofía", "Diego", "Valentina", "Mateo", "Camila", "Andrés",
           "Isabel", "Pablo", "Martina", "Alejandro"),
    "en": ("Emma", "James", "Olivia", "Noah", "Ava", "Liam", "Mia", "Ethan", "Grace",
           "Henry", "Chloe", "Jack"),
}  # fmt: skip
SURNAMES = {
    "pt-BR": ("Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues",
              "Almeida", "Nascimento", "Lima", "Araújo", "Ribeiro", "Carvalho", "Gomes"),
    "es": ("García", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Fernández",
           "Díaz", "Romero", "Torres", "Ruiz", "Vargas"),
    "en": ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies",
           "Evans", "Walker", "Wright", "Green"),
}  # fmt: skip
BUSINESSES = {
    "pt-BR": ("padaria", "oficina", "clinica", "escritorio", "loja", "studio", "pousada",
              "academia", "advocacia", "floricultura", "petshop", "restaurante", "contabil",
              "imobiliaria", "escola", "mercado", "farmacia", "otica"),
    "es": ("panaderia", "taller", "clinica", "despacho", "tienda", "estudio", "hostal",
           "gimnasio", "abogados", "floreria", "veterinaria", "restaurante", "inmobiliaria",
           "colegio", "ferreteria"),
    "en": ("bakery", "garage", "clinic", "studio", "shop", "inn", "gym", "lawfirm",
           "florist", "petcare", "diner", "realty", "school", "books"),
}  # fmt: skip
QUALIFIERS = {
    "pt-BR": ("estrela", "central", "dojoao", "silva", "santos", "bomgosto", "sol", "verde",
              "azul", "norte", "vitoria", "primavera", "dasflores", "doporto", "mineira"),
    "es": ("luna", "central", "garcia", "lopez", "elsol", "verde", "azul", "norte",
           "victoria", "primavera", "delmar", "andina"),
    "en": ("star", "central", "smith", "jones", "sunny", "green", "blue", "north", "victory",
           "spring", "harbor", "oak"),
}  # fmt: skip
TLDS = {
    "pt-BR": (".com.br", ".com.br", ".net.br", ".com"),
    "es": (".es", ".com.mx", ".com.ar", ".com"),
    "en": (".com", ".net", ".org", ".co.uk"),
}
TIMEZONES = {
    "pt-BR": ("America/Sao_Paulo", "America/Sao_Paulo", "America/Manaus", "America/Recife"),
    "es": ("Europe/Madrid", "America/Mexico_City", "America/Argentina/Buenos_Aires"),
    "en": ("Europe/London", "America/New_York", "America/Chicago"),
}
WHEN = {
    "pt-BR": ("ontem à noite", "hoje de manhã", "na segunda-feira", "no fim de semana",
              "desde a madrugada", "depois do feriado"),
    "es": ("anoche", "esta mañana", "el lunes", "el fin de semana", "de madrugada",
           "después del puente"),
    "en": ("last night", "this morning", "on Monday", "over the weekend", "overnight",
           "after the holiday"),
}  # fmt: skip
PLANS = {
    "pt-BR": ("Básico", "Pro", "Empresarial"),
    "es": ("Básico", "Pro", "Empresa"),
    "en": ("Basic", "Pro", "Business"),
}
MAILBOX_NAMES = {
    "pt-BR": ("contato", "vendas", "financeiro", "atendimento"),
    "es": ("contacto", "ventas", "facturacion", "info"),
    "en": ("hello", "sales", "accounts", "info"),
}
PRODUCTS = ("WordPress", "WordPress", "WordPress", "WooCommerce", "Joomla", "Magento",
            "PrestaShop", "OpenCart", "Drupal", "Laravel", "Moodle")  # fmt: skip
MAIL_CLIENTS = ("Outlook", "Outlook", "Thunderbird", "iPhone", "Apple Mail", "Android", "Gmail")
SMTP_ERRORS = ("550 5.7.1", "554 5.7.0", "421 4.7.0", "535 5.7.8", "552 5.2.2")
HTTP_ERRORS = ("500", "502", "503", "504", "403", "404", "508")
PHP_VERSIONS = ("7.4", "8.1", "8.2", "8.3")
SEARCH_WORDS = (
    "wordpress",
    "certificado",
    "reembolso",
    "dkim",
    "thunderbird",
    "prestashop",
    "cname",
    "lentidão",
    "invoice",
    "erro wordpress",
)
"""What the benchmark searches for: words of the corpus, common and rare, in all three
languages, and one query of two words."""


def person(rng: random.Random, language: str) -> str:
    return f"{rng.choice(FIRST_NAMES[language])} {rng.choice(SURNAMES[language])}"


def domain(rng: random.Random, language: str) -> str:
    business = rng.choice(BUSINESSES[language])
    return f"{business}{rng.choice(QUALIFIERS[language])}{rng.choice(TLDS[language])}"


def fillers(rng: random.Random, language: str, site: str, name: str, agent: str) -> dict[str, str]:
    """The placeholders of one ticket: the same domain and product all through it."""
    return {
        "domain": site,
        "name": name.split()[0],
        "agent": agent.split()[0],
        "product": rng.choice(PRODUCTS),
        "client": rng.choice(MAIL_CLIENTS),
        "code": rng.choice(HTTP_ERRORS),
        "smtp": rng.choice(SMTP_ERRORS),
        "php": rng.choice(PHP_VERSIONS),
        "plan": rng.choice(PLANS[language]),
        "when": rng.choice(WHEN[language]),
        "mailbox": f"{rng.choice(MAILBOX_NAMES[language])}@{site}",
        "invoice": f"{rng.randint(2023, 2026)}-{rng.randint(1, 99999):05d}",
        "server": f"{rng.choice(('web', 'mail', 'db'))}-{rng.randint(1, 40):02d}",
    }


def first_message(rng: random.Random, topic: Topic, language: str, fill: dict[str, str]) -> str:
    said = rng.sample(topic.sentences[language], rng.randint(2, 3))
    if rng.random() < 0.6:
        said.append(rng.choice(DETAILS[language]))
    lines = [rng.choice(GREETINGS[language]), " ".join(said), rng.choice(CLOSINGS[language])]
    lines.append(fill["name"])
    return "\n\n".join(lines).format_map(fill)


def follow_up(rng: random.Random, topic: Topic, language: str, fill: dict[str, str]) -> str:
    said = [rng.choice(FOLLOW_UPS[language])]
    if rng.random() < 0.4:
        said.append(rng.choice(topic.sentences[language]))
    return (" ".join(said) + "\n\n" + fill["name"]).format_map(fill)


def staff_reply(
    rng: random.Random, topic: Topic, language: str, fill: dict[str, str], solves: bool
) -> str:
    middle = [rng.choice(STAFF_MIDDLES[language])]
    if solves:
        middle.append(topic.resolution[language][1])
    elif rng.random() < 0.5:
        middle.append(rng.choice(STAFF_MIDDLES[language]))
    lines = [rng.choice(STAFF_OPENINGS[language]), " ".join(middle)]
    lines.append(rng.choice(STAFF_CLOSINGS[language]))
    return "\n\n".join(lines).format_map(fill)


def note(rng: random.Random, fill: dict[str, str]) -> str:
    return rng.choice(NOTES).format_map(fill)
