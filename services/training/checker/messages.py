"""What each finding says to the person writing the reply, in pt-BR, es and en.

``finding`` is the short line shown beside the reply; ``why`` explains the
founder's reason, and the lesson of the rule teaches the rest.
"""

from __future__ import annotations

MESSAGES: dict[str, dict[str, dict[str, str]]] = {
    "P-RESOLVE:cause": {
        "finding": {
            "en": "The resolution does not say what caused the problem.",
            "pt-BR": "A resolução não diz o que causou o problema.",
            "es": "La resolución no dice qué causó el problema.",
        },
        "why": {
            "en": "Customers trust us when they understand what happened: say the cause in plain words.",
            "pt-BR": "O cliente confia quando entende o que aconteceu: diga a causa em palavras simples.",
            "es": "El cliente confía cuando entiende lo que pasó: explique la causa con palabras sencillas.",
        },
    },
    "P-RESOLVE:fix": {
        "finding": {
            "en": "The resolution does not say what was done to fix it.",
            "pt-BR": "A resolução não diz o que foi feito para corrigir.",
            "es": "La resolución no dice qué se hizo para solucionarlo.",
        },
        "why": {
            "en": "Tell the customer what we did, or what they can do, so the fix is not a mystery.",
            "pt-BR": "Conte o que fizemos, ou o que o cliente pode fazer, para a solução não ser um mistério.",
            "es": "Cuente qué hicimos, o qué puede hacer el cliente, para que la solución no sea un misterio.",
        },
    },
    "P-RESOLVE:prevention": {
        "finding": {
            "en": "The resolution does not say what was done so it does not happen again.",
            "pt-BR": "A resolução não diz o que foi feito para não acontecer de novo.",
            "es": "La resolución no dice qué se hizo para que no vuelva a ocurrir.",
        },
        "why": {
            "en": "Solving is not enough: the customer needs to know it will not come back.",
            "pt-BR": "Resolver não basta: o cliente precisa saber que o problema não vai voltar.",
            "es": "Resolver no basta: el cliente necesita saber que el problema no volverá.",
        },
    },
    "P-POLITE:greeting": {
        "finding": {
            "en": "The reply does not open with a greeting.",
            "pt-BR": "A resposta não começa com uma saudação.",
            "es": "La respuesta no empieza con un saludo.",
        },
        "why": {
            "en": "A greeting, with the customer's name, tells them a person is looking after them.",
            "pt-BR": "Uma saudação, com o nome do cliente, mostra que uma pessoa está cuidando dele.",
            "es": "Un saludo, con el nombre del cliente, muestra que una persona lo está atendiendo.",
        },
    },
    "P-POLITE:closing": {
        "finding": {
            "en": "The reply ends without a courteous closing.",
            "pt-BR": "A resposta termina sem uma despedida cordial.",
            "es": "La respuesta termina sin una despedida cordial.",
        },
        "why": {
            "en": "Close kindly and sign with your name: the customer knows who to answer.",
            "pt-BR": "Despeça-se com gentileza e assine com seu nome: o cliente sabe com quem falar.",
            "es": "Despídase con amabilidad y firme con su nombre: el cliente sabe con quién hablar.",
        },
    },
    "P-POLITE:shouting": {
        "finding": {
            "en": "This reads as shouting (capitals or repeated marks).",
            "pt-BR": "Isto soa como grito (maiúsculas ou pontuação repetida).",
            "es": "Esto suena a gritos (mayúsculas o signos repetidos).",
        },
        "why": {
            "en": "We never raise the tone, however tense the ticket is.",
            "pt-BR": "Nunca levantamos o tom, por mais tenso que esteja o chamado.",
            "es": "Nunca subimos el tono, por tenso que esté el caso.",
        },
    },
    "P-POLITE:blame": {
        "finding": {
            "en": "This blames the customer.",
            "pt-BR": "Isto culpa o cliente.",
            "es": "Esto culpa al cliente.",
        },
        "why": {
            "en": "Make the customer's mistakes small: say what happened and how to avoid it, not whose fault it is.",
            "pt-BR": "Diminua o erro do cliente: diga o que aconteceu e como evitar, não de quem é a culpa.",
            "es": "Haga pequeños los errores del cliente: diga qué pasó y cómo evitarlo, no de quién es la culpa.",
        },
    },
    "P-POLITE:condescending": {
        "finding": {
            "en": "This sounds condescending.",
            "pt-BR": "Isto soa condescendente.",
            "es": "Esto suena condescendiente.",
        },
        "why": {
            "en": "If the customer did not understand, the fault is in the explanation: explain again, kindly.",
            "pt-BR": "Se o cliente não entendeu, a falha está na explicação: explique de novo, com gentileza.",
            "es": "Si el cliente no entendió, la falla está en la explicación: explíquelo otra vez, con amabilidad.",
        },
    },
    "P-POLITE:apology": {
        "finding": {
            "en": "The customer waited longer than we promised, and the reply does not apologise.",
            "pt-BR": "O cliente esperou mais do que prometemos e a resposta não pede desculpas.",
            "es": "El cliente esperó más de lo prometido y la respuesta no se disculpa.",
        },
        "why": {
            "en": "When we are late, we say sorry first: keeping a customer costs less than winning one.",
            "pt-BR": "Quando atrasamos, pedimos desculpas primeiro: manter um cliente custa menos que conquistar outro.",
            "es": "Cuando nos retrasamos, primero pedimos disculpas: conservar un cliente cuesta menos que ganar otro.",
        },
    },
    "P-NO-GOSSIP:other-customer": {
        "finding": {
            "en": "The reply mentions another customer.",
            "pt-BR": "A resposta menciona outro cliente.",
            "es": "La respuesta menciona a otro cliente.",
        },
        "why": {
            "en": "We never speak of other customers, good or bad: each one trusts us with their business.",
            "pt-BR": "Nunca falamos de outros clientes, nem bem nem mal: cada um nos confia o seu negócio.",
            "es": "Nunca hablamos de otros clientes, ni bien ni mal: cada uno nos confía su negocio.",
        },
    },
    "P-CONFIDENTIAL:other-customer-data": {
        "finding": {
            "en": "The reply gives away another customer's address or domain.",
            "pt-BR": "A resposta revela o endereço ou o domínio de outro cliente.",
            "es": "La respuesta revela la dirección o el dominio de otro cliente.",
        },
        "why": {
            "en": "Nothing about one customer is ever given to anyone else.",
            "pt-BR": "Nenhuma informação de um cliente é passada a mais ninguém.",
            "es": "Ningún dato de un cliente se entrega nunca a otra persona.",
        },
    },
    "P-TEACH:reference": {
        "finding": {
            "en": "The question is beyond hosting and the reply points to no reference.",
            "pt-BR": "A pergunta vai além da hospedagem e a resposta não indica nenhuma referência.",
            "es": "La pregunta va más allá del hosting y la respuesta no indica ninguna referencia.",
        },
        "why": {
            "en": "Teach where to find it (a guide, the official documentation, a link) rather than doing it for them.",
            "pt-BR": "Ensine onde encontrar (um guia, a documentação oficial, um link) em vez de fazer pelo cliente.",
            "es": "Enseñe dónde encontrarlo (una guía, la documentación oficial, un enlace) en lugar de hacerlo por el cliente.",
        },
    },
    "P-CHANNELS:instant-promise": {
        "finding": {
            "en": "The reply promises round-the-clock instant messaging for something that is not an emergency.",
            "pt-BR": "A resposta promete mensagens instantâneas a qualquer hora para algo que não é emergência.",
            "es": "La respuesta promete mensajería instantánea a cualquier hora para algo que no es una emergencia.",
        },
        "why": {
            "en": "WhatsApp and SMS are for emergencies; everything else is handled in business hours.",
            "pt-BR": "WhatsApp e SMS são para emergências; o resto é atendido no horário comercial.",
            "es": "WhatsApp y SMS son para emergencias; lo demás se atiende en horario laboral.",
        },
    },
    "P-ESCALATE:dead-end": {
        "finding": {
            "en": "The reply says you cannot help, with no next step.",
            "pt-BR": "A resposta diz que você não pode ajudar, sem próximo passo.",
            "es": "La respuesta dice que no puede ayudar, sin un siguiente paso.",
        },
        "why": {
            "en": "Say so without excuses, then give a next step: more time to research, or another engineer.",
            "pt-BR": "Diga sem desculpas e dê um próximo passo: mais tempo para pesquisar, ou outro técnico.",
            "es": "Dígalo sin excusas y dé un siguiente paso: más tiempo para investigar, u otro técnico.",
        },
    },
}


def message(key: str, part: str, language: str) -> str:
    texts = MESSAGES[key][part]
    return texts.get(language) or texts["en"]
