"""The demo's terms: two versions written for this product, so the history and the comparison
have something to show. An agency running the portal publishes its own terms."""

from __future__ import annotations

from datetime import date

_SV_COMMON = [
    "1. Vad villkoren gäller. Villkoren gäller när en arbetsgivare använder myndighetens e-tjänster för arbetsgivare. I e-tjänsterna kan arbetsgivaren lämna uppgifter till myndigheten och ta del av uppgifter från den.",
    "2. Vilka som använder e-tjänsterna. Arbetsgivaren utser en eller flera behörighetsadministratörer. Behörighetsadministratörerna ger användare hos arbetsgivaren behörighet till de e-tjänster som användarna behöver i sitt arbete.",
    "3. Anslutning. Arbetsgivaren ansluts av en person som enligt bolagsregistret eller motsvarande register får företräda arbetsgivaren. Den som ansluter arbetsgivaren godkänner samtidigt dessa villkor för arbetsgivarens räkning.",
    "4. Inloggning. Alla som använder e-tjänsterna loggar in med en personlig e-legitimation från en utfärdare som myndigheten godtar. En e-legitimation får inte lämnas över till någon annan.",
    "5. Arbetsgivarens ansvar för behörigheter. Arbetsgivaren ger behörighet bara till den som behöver den och bara i den omfattning som behövs. Arbetsgivaren följer regelbundet upp vilka som har behörighet och tar bort behörigheten genast när någon slutar eller får andra arbetsuppgifter.",
    "6. Teknik. E-tjänsterna nås via internet med en vanlig webbläsare. De tekniska kraven beskrivs på sidan Tekniska krav.",
    "7. Personuppgifter. Myndigheten behandlar personuppgifter enligt dataskyddsförordningen och kompletterande svensk lag. Mer information finns i myndighetens beskrivning av hur personuppgifter behandlas.",
    "8. Loggning. Myndigheten loggar allt som görs i e-tjänsterna: inloggningar, ändrade behörigheter, inskickade uppgifter och vad myndighetens personal gör. Arbetsgivarens behörighetsadministratörer kan se loggen för sin arbetsgivare.",
    "9. Avbrott. Myndigheten meddelar planerade avbrott i förväg på sidan Driftstatus. Myndigheten ansvarar inte för skada som beror på avbrott, fel i e-legitimationer eller innehåll på webbplatser som e-tjänsterna länkar till.",
]
_SV_V1_END = [
    "10. Ändrade villkor. Myndigheten kan ändra villkoren. Ändringar meddelas på webbplatsen innan de börjar gälla.",
    "11. Avregistrering och uppsägning. Arbetsgivaren kan skriftligen begära att bli avregistrerad. Myndigheten kan säga upp anslutningen med tre månaders varsel.",
]
_SV_V2_END = [
    "10. Ändrade villkor. Myndigheten kan ändra villkoren. Ändringar meddelas behörighetsadministratörerna och på webbplatsen minst 30 dagar innan de börjar gälla. En arbetsgivare som inte godtar ändringarna kan begära att bli avregistrerad.",
    "11. Avregistrering. Arbetsgivaren kan när som helst begära att bli avregistrerad, i e-tjänsten med e-legitimation eller skriftligen. När begäran har kommit in avregistreras arbetsgivaren och får en bekräftelse.",
    "12. Uppsägning. Myndigheten kan säga upp anslutningen med tre månaders uppsägningstid. Behörighetsadministratörerna får besked direkt, och åtkomsten upphör när uppsägningstiden har gått ut.",
]

_EN_COMMON = [
    "1. What the terms cover. These terms apply when an employer uses the agency's e-services for employers. In the e-services the employer can submit information to the agency and receive information from it.",
    "2. Who uses the e-services. The employer appoints one or more access administrators. The access administrators give users at the employer access to the e-services they need in their work.",
    "3. Connecting. The employer is connected by a person who, according to the companies register or a similar register, may represent the employer. The person who connects the employer accepts these terms on the employer's behalf at the same time.",
    "4. Logging in. Everyone who uses the e-services logs in with a personal e-ID from an issuer the agency accepts. An e-ID must not be handed over to anyone else.",
    "5. The employer's responsibility for access. The employer gives access only to those who need it and only to the extent needed. The employer regularly reviews who has access and removes it at once when someone leaves or changes duties.",
    "6. Technology. The e-services are reached over the internet with an ordinary web browser. The technical requirements are described on the Technical requirements page.",
    "7. Personal data. The agency processes personal data under the General Data Protection Regulation and supplementary Swedish law. More information is in the agency's description of how personal data is processed.",
    "8. Logging. The agency logs everything done in the e-services: logins, changed access, submitted information and what the agency's staff do. The employer's access administrators can see the log for their employer.",
    "9. Interruptions. The agency announces planned interruptions in advance on the Service status page. The agency is not liable for damage caused by interruptions, faults in e-IDs or content on websites the e-services link to.",
]
_EN_V1_END = [
    "10. Changed terms. The agency may change the terms. Changes are announced on the website before they take effect.",
    "11. De-registration and termination. The employer may ask in writing to be de-registered. The agency may terminate the connection with three months' notice.",
]
_EN_V2_END = [
    "10. Changed terms. The agency may change the terms. Changes are announced to the access administrators and on the website at least 30 days before they take effect. An employer that does not accept the changes may ask to be de-registered.",
    "11. De-registration. The employer may at any time ask to be de-registered, in the e-service with an e-ID or in writing. Once the request has been received, the employer is de-registered and receives a confirmation.",
    "12. Termination. The agency may terminate the connection with three months' notice. The access administrators are told at once, and access ends when the notice period has passed.",
]

DEMO_TERMS = [
    {
        "version": "2025-01",
        "title_sv": "Allmänna villkor för e-tjänster för arbetsgivare",
        "title_en": "General terms of the e-services for employers",
        "text_sv": "\n\n".join(_SV_COMMON + _SV_V1_END),
        "text_en": "\n\n".join(_EN_COMMON + _EN_V1_END),
        "changes_sv": "Första versionen.",
        "changes_en": "The first version.",
        "effective_from": date(2025, 1, 1),
    },
    {
        "version": "2026-06",
        "title_sv": "Allmänna villkor för e-tjänster för arbetsgivare",
        "title_en": "General terms of the e-services for employers",
        "text_sv": "\n\n".join(_SV_COMMON + _SV_V2_END),
        "text_en": "\n\n".join(_EN_COMMON + _EN_V2_END),
        "changes_sv": "Ändringar meddelas minst 30 dagar i förväg; avregistrering och uppsägning beskrivs var för sig.",
        "changes_en": "Changes are announced at least 30 days ahead; de-registration and termination are described separately.",
        "effective_from": date(2026, 6, 1),
    },
]
