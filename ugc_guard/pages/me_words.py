"""The words on the subject's own page (``{prefix}/me``), in English and Dutch; others fall back to English."""

from __future__ import annotations

__all__ = ["words"]

_EN: dict[str, str] = {
    "title": "Your data at {campaign}",
    "intro": "This page shows what {campaign} recorded about you on this device, and lets you take back your consent.",
    "unknown_title": "We do not know you on this device",
    "unknown_text": "We only know you by a cookie that was set when you accepted the terms. Without it we cannot show "
                    "or change your data here. Write to {contact} and we will help you.",
    "accepted_heading": "What you accepted",
    "accepted_none": "You have not accepted any terms yet.",
    "accepted_item": "Terms version {version} ({language}), on {when}",
    "submissions_heading": "What you sent",
    "submissions_none": "You have not sent anything.",
    "col_when": "Sent on (UTC)",
    "col_file": "File",
    "col_status": "Status",
    "col_licence": "Licence",
    "col_portrait": "Portrait consent",
    "col_action": "Take back",
    "licence_kept": "granted, cannot be taken back",
    "portrait_given": "given",
    "portrait_withdrawn": "taken back",
    "status_received": "received",
    "status_accepted": "received",
    "status_stored": "stored",
    "status_not stored": "not stored",
    "status_not stored (unconfirmed)": "not stored (unconfirmed)",
    "status_withdrawn": "taken down",
    "status_expired": "deleted (retention period over)",
    "status_erased": "deleted (erased)",
    "withdraw_one": "Take back portrait consent for this file",
    "nothing_to_withdraw": "—",
    "difference_heading": "Licence and portrait consent: the difference",
    "difference_licence": "When you sent a file, you gave {controller} a licence to use it (copyright). That licence "
                          "cannot be taken back: it stays recorded, as the terms said.",
    "difference_portrait": "Your consent to show your face or body (your portrait) is about your personal data, and you "
                           "can take it back at any time. Then we take the file down, stop new uses and tell the people "
                           "we gave it to. What was done before stays lawful. We keep a record without the file to "
                           "prove what happened.",
    "withdraw_heading": "Take back your consent",
    "withdraw_all": "Take back portrait consent for everything I sent",
    "withdraw_processing": "Take back all consent to process my data (this also takes down everything I sent; to upload "
                           "again you would have to accept the terms again)",
    "withdraw_processing_legend": "Everything",
    "reason": "Why (optional)",
    "export_heading": "A copy of your data",
    "export_text": "Download everything recorded about you as a JSON file (GDPR articles 15 and 20).",
    "export_link": "Download my data (JSON)",
    "erase_text": "To have your data erased, write to {contact}. Mention this code: {subject}.",
    "done_withdrawn": "Done: your consent is taken back for {count} file(s). They are on the takedown list.",
    "done_nothing": "Nothing changed: there was nothing left to take back.",
    "done_processing": "Done: your consent to processing is taken back.",
}

_NL: dict[str, str] = {
    "title": "Jouw gegevens bij {campaign}",
    "intro": "Op deze pagina zie je wat {campaign} over jou heeft vastgelegd op dit apparaat, en kun je je toestemming intrekken.",
    "unknown_title": "We kennen je niet op dit apparaat",
    "unknown_text": "We kennen je alleen via een cookie die is gezet toen je de voorwaarden accepteerde. Zonder die cookie "
                    "kunnen we je gegevens hier niet tonen of wijzigen. Schrijf naar {contact}, dan helpen we je.",
    "accepted_heading": "Wat je hebt geaccepteerd",
    "accepted_none": "Je hebt nog geen voorwaarden geaccepteerd.",
    "accepted_item": "Voorwaarden versie {version} ({language}), op {when}",
    "submissions_heading": "Wat je hebt ingestuurd",
    "submissions_none": "Je hebt niets ingestuurd.",
    "col_when": "Ingestuurd op (UTC)",
    "col_file": "Bestand",
    "col_status": "Status",
    "col_licence": "Licentie",
    "col_portrait": "Toestemming portret",
    "col_action": "Intrekken",
    "licence_kept": "gegeven, kan niet worden ingetrokken",
    "portrait_given": "gegeven",
    "portrait_withdrawn": "ingetrokken",
    "status_received": "ontvangen",
    "status_accepted": "ontvangen",
    "status_stored": "opgeslagen",
    "status_not stored": "niet opgeslagen",
    "status_not stored (unconfirmed)": "niet opgeslagen (onbevestigd)",
    "status_withdrawn": "offline gehaald",
    "status_expired": "verwijderd (bewaartermijn voorbij)",
    "status_erased": "verwijderd (gewist)",
    "withdraw_one": "Trek toestemming voor je portret in voor dit bestand",
    "nothing_to_withdraw": "—",
    "difference_heading": "Licentie en toestemming voor je portret: het verschil",
    "difference_licence": "Toen je een bestand instuurde, gaf je {controller} een licentie om het te gebruiken "
                          "(auteursrecht). Die licentie kun je niet intrekken: ze blijft vastgelegd, zoals in de voorwaarden stond.",
    "difference_portrait": "Je toestemming om je gezicht of lichaam (je portret) te tonen gaat over je persoonsgegevens, en "
                           "die kun je altijd intrekken. Dan halen we het bestand offline, stoppen we nieuw gebruik en laten "
                           "we het weten aan wie het van ons kreeg. Wat eerder gebeurde, blijft rechtmatig. We bewaren een "
                           "verslag zonder het bestand om te kunnen bewijzen wat er is gebeurd.",
    "withdraw_heading": "Je toestemming intrekken",
    "withdraw_all": "Trek toestemming voor mijn portret in voor alles wat ik heb ingestuurd",
    "withdraw_processing": "Trek alle toestemming in om mijn gegevens te verwerken (dan gaat ook alles wat ik instuurde "
                           "offline; om weer iets in te sturen moet je de voorwaarden opnieuw accepteren)",
    "withdraw_processing_legend": "Alles",
    "reason": "Waarom (niet verplicht)",
    "export_heading": "Een kopie van je gegevens",
    "export_text": "Download alles wat over jou is vastgelegd als JSON-bestand (AVG artikel 15 en 20).",
    "export_link": "Download mijn gegevens (JSON)",
    "erase_text": "Wil je dat je gegevens worden gewist? Schrijf naar {contact} en noem deze code: {subject}.",
    "done_withdrawn": "Gedaan: je toestemming is ingetrokken voor {count} bestand(en). Ze staan op de lijst om offline te halen.",
    "done_nothing": "Er is niets veranderd: er was niets meer om in te trekken.",
    "done_processing": "Gedaan: je toestemming voor verwerking is ingetrokken.",
}

_WORDS = {"en": _EN, "nl": _NL}


def words(lang: str) -> dict[str, str]:
    """Return the vocabulary for ``lang`` (English when there is none)."""
    return _WORDS.get(lang, _EN)
