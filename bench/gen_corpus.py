#!/usr/bin/env python3
"""Generate the benchmark corpus: one region in Lotse's content format and the
equivalent Hugo site, both from the same data.

    python3 bench/gen_corpus.py --services N --out bench/work/N
    python3 bench/gen_corpus.py --portals 396 --services 2500 --lotse-only --out DIR

writes

    <out>/lotse/content/...   region.toml, categories.toml, portals/<p>/portal.toml,
                              portals/<p>/services/<slug>.md (N per portal)
    <out>/lotse/themes/default -> the repository's theme (symlink)
    <out>/hugo/...            hugo.toml, data/, content/, layouts/ (copied from
                              bench/hugo/layouts), static/assets/ (the theme's static files)

Everything is derived from a fixed seed: the same N always gives byte-identical
files, and the Markdown bodies in the two trees are the same strings (the Hugo copy
differs only in its front matter, which carries Hugo's taxonomy keys).

The corpus: 14 portals (13 cities and one district), 14 categories (the OZG topics),
2-3 offices per portal, each with a valid X25519-sized public key. Every portal has N
*local* services. The service catalogue (titles, summaries, categories, keywords) is
shared by the portals, as in real life where every city offers "Hundesteuer
anmelden"; each portal's copy has its own body, fees, documents and office. About
4 % of the catalogue has an online form, about 2 % is a state or federal service.

Large regions (bench/scale.sh): `--portals P` makes P portals instead of 14. The first
14 are always the ones above, so `--portals 14` is the default corpus byte for byte and
`--portals 42` contains it; the rest are invented towns ("Stadt Wernhagen", every
13th a district, "Kreis Ahlbrück"), drawn from syllables with a seed of their own, so
portal k is the same in every region that has it. `--lotse-only` leaves out the Hugo
tree. Files are written as they are generated, one portal after another (`--jobs`
portals at once, in separate processes; the output does not depend on it), so memory
stays small at a million pages. At most 2,680 services per portal (the catalogue).
"""

import argparse
import base64
import hashlib
import json
import os
import random
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

SEED = "lotse-bench-2024"

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# --------------------------------------------------------------------------------------
# Fixed region data
# --------------------------------------------------------------------------------------

REGION = {
    "name": "Serviceportal Emscher-Lippe",
    "slug": "emscher-lippe",
    "base_url": "https://www.serviceportal-emscher-lippe.de",
    "language": "de",
    "description": "Das gemeinsame Serviceportal für den Kreis Recklinghausen, seine "
    "Städte sowie Bottrop, Gelsenkirchen und Herne: Verwaltungsleistungen finden und "
    "online beantragen.",
    "operator": "Kreis Recklinghausen",
    "primary": "#0b5394",
}

# (slug, name, short_name, kind, brand colour, postcode, street)
PORTALS = [
    ("bottrop", "Stadt Bottrop", "Bottrop", "city", "#00639c", "46236", "Ernst-Wilczok-Platz 1"),
    ("castrop-rauxel", "Stadt Castrop-Rauxel", "Castrop-Rauxel", "city", "#8a1538", "44575", "Europaplatz 1"),
    ("datteln", "Stadt Datteln", "Datteln", "city", "#005b2f", "45711", "Genthiner Straße 8"),
    ("dorsten", "Stadt Dorsten", "Dorsten", "city", "#7a2e0e", "46282", "Halterner Straße 5"),
    ("gelsenkirchen", "Stadt Gelsenkirchen", "Gelsenkirchen", "city", "#004f9f", "45879", "Ebertstraße 11"),
    ("gladbeck", "Stadt Gladbeck", "Gladbeck", "city", "#a3001b", "45964", "Willy-Brandt-Platz 2"),
    ("haltern-am-see", "Stadt Haltern am See", "Haltern am See", "city", "#1d5e8c", "45721", "Dr.-Conrads-Straße 1"),
    ("herne", "Stadt Herne", "Herne", "city", "#00587c", "44623", "Friedrich-Ebert-Platz 2"),
    ("herten", "Stadt Herten", "Herten", "city", "#5c3b8a", "45699", "Kurt-Schumacher-Straße 2"),
    ("kreis-recklinghausen", "Kreis Recklinghausen", "Kreis Recklinghausen", "district", "#2f4f4f", "45657", "Kurt-Schumacher-Allee 1"),
    ("marl", "Stadt Marl", "Marl", "city", "#0a4d68", "45768", "Creiler Platz 1"),
    ("oer-erkenschwick", "Stadt Oer-Erkenschwick", "Oer-Erkenschwick", "city", "#6b3e00", "45739", "Rathausplatz 1"),
    ("recklinghausen", "Stadt Recklinghausen", "Recklinghausen", "city", "#9c1c1c", "45657", "Rathausplatz 3"),
    ("waltrop", "Stadt Waltrop", "Waltrop", "city", "#33691e", "45731", "Münsterstraße 1"),
]

# Invented towns for regions of more than 14 portals (--portals): a name from two
# syllables, now and then with a prefix or an addition, as NRW's towns have.
TOWN_HEADS = [
    "Ahl", "Alt", "Bever", "Bil", "Bor", "Brak", "Dül", "Eller", "Ems", "Ens", "Erk", "Gre",
    "Hal", "Ham", "Hol", "Horn", "Hüls", "Iser", "Kal", "Kirch", "Lan", "Len", "Lipp",
    "Lün", "Mecken", "Mes", "Nie", "Nor", "Olde", "Ost", "Rade", "Rhe", "Salz", "Schwel",
    "Sel", "Sprock", "Sten", "Stein", "Sund", "Ver", "Voer", "Wal", "Wer", "Wes", "Wil",
    "Win", "Wip", "Zell",
]
TOWN_TAILS = [
    "dorf", "hausen", "heim", "stedt", "feld", "berg", "bach", "hagen", "kirchen", "beck",
    "lohe", "rode", "ingen", "horst", "kamp", "born", "brück", "büren", "loh", "scheid",
    "winkel", "wald", "furt", "hövel", "ede", "mühlen",
]
TOWN_ADDITIONS = [" an der Ruhr", " am Rhein", " an der Lippe", " im Sauerland", " (Westf.)"]
TOWN_STREETS = [
    "Rathausplatz 1", "Marktplatz 2", "Am Markt 1", "Hauptstraße 12", "Kirchplatz 3",
    "Rathausstraße 7", "Bahnhofstraße 20", "Schloßplatz 1", "Friedrich-Ebert-Straße 5",
]

# The 14 OZG topics, as in content/categories.toml.
CATEGORIES = [
    ("arbeit-ruhestand", "Arbeit & Ruhestand", "Arbeitssuche, Beschäftigung, Rente und soziale Absicherung im Alter"),
    ("bauen-wohnen", "Bauen & Wohnen", "Bauanträge, Wohnraum, Wohngeld, Grundstücke und Nachbarschaft"),
    ("bildung", "Bildung", "Schule, Ausbildung, Studium, Weiterbildung und Ausbildungsförderung"),
    ("ein-auswanderung", "Ein- & Auswanderung", "Aufenthalt, Einbürgerung und Wegzug ins Ausland"),
    ("engagement-hobby", "Engagement & Hobby", "Ehrenamt, Vereine, Freizeit, Jagd, Angeln und Veranstaltungen"),
    ("familie-kind", "Familie & Kind", "Geburt, Heirat, Kinderbetreuung, Elterngeld und Familienleistungen"),
    ("forschung-foerderung", "Forschung & Förderung", "Förderprogramme, Zuschüsse und Unterstützung für Projekte"),
    ("gesundheit", "Gesundheit", "Gesundheitsamt, Infektionsschutz, Behinderung und Pflege"),
    ("mobilitaet-reisen", "Mobilität & Reisen", "Ausweise, Fahrzeuge, Führerschein, Parken und Reisen"),
    ("querschnitt", "Querschnitt", "Meldewesen, Urkunden, Wahlen und allgemeine Anliegen an die Verwaltung"),
    ("recht-ordnung", "Recht & Ordnung", "Öffentliche Ordnung, Fundsachen, Führungszeugnis und Sondernutzungen"),
    ("steuern-zoll", "Steuern & Zoll", "Kommunale Steuern und Abgaben wie Grundsteuer und Hundesteuer"),
    ("umwelt", "Umwelt", "Abfall, Lärm, Bäume, Tiere und Klimaschutz"),
    ("unternehmensfuehrung", "Unternehmensführung & -entwicklung", "Gewerbe anmelden, ändern und abmelden, Genehmigungen für Betriebe"),
]
CATEGORY_IDS = [c[0] for c in CATEGORIES]

# Offices: every portal has the first one (forms are routed there); the others are
# drawn per portal so that portals have 2 or 3 offices.
OFFICES = [
    ("buergerbuero", "Bürgerbüro im Rathaus", ["Mo–Mi 8:00–16:00", "Do 8:00–18:00", "Fr 8:00–12:00"]),
    ("fachdienst", "Fachdienst Bürgerservice und Ordnung", ["Mo–Fr 8:00–12:00", "Do 14:00–17:00"]),
    ("bauamt", "Fachbereich Bauordnung und Denkmalschutz", ["Mo, Di, Do 8:30–12:00", "Termine nach Vereinbarung"]),
]

# --------------------------------------------------------------------------------------
# Vocabulary for titles and German-looking text
# --------------------------------------------------------------------------------------

# (object of a service title, its main category)
TITLE_OBJECTS = [
    ("Hundesteuer", "steuern-zoll"), ("Grundsteuer", "steuern-zoll"), ("Zweitwohnungsteuer", "steuern-zoll"),
    ("Vergnügungsteuer", "steuern-zoll"), ("Gewerbesteuer", "steuern-zoll"), ("Anwohnerparkausweis", "mobilitaet-reisen"),
    ("Personalausweis", "mobilitaet-reisen"), ("Reisepass", "mobilitaet-reisen"), ("Führerschein", "mobilitaet-reisen"),
    ("Fahrzeugzulassung", "mobilitaet-reisen"), ("Schwerbehindertenparkausweis", "mobilitaet-reisen"),
    ("Baugenehmigung", "bauen-wohnen"), ("Wohngeld", "bauen-wohnen"), ("Wohnberechtigungsschein", "bauen-wohnen"),
    ("Abrissgenehmigung", "bauen-wohnen"), ("Grundstücksteilung", "bauen-wohnen"), ("Hausnummer", "bauen-wohnen"),
    ("Baulastenauskunft", "bauen-wohnen"), ("Kita-Platz", "familie-kind"), ("Elterngeld", "familie-kind"),
    ("Geburtsurkunde", "familie-kind"), ("Eheschließung", "familie-kind"), ("Kindertagespflege", "familie-kind"),
    ("Unterhaltsvorschuss", "familie-kind"), ("Vaterschaftsanerkennung", "familie-kind"),
    ("Schülerfahrkarte", "bildung"), ("Schulanmeldung", "bildung"), ("BAföG", "bildung"),
    ("Musikschulunterricht", "bildung"), ("Volkshochschulkurs", "bildung"), ("Aufenthaltstitel", "ein-auswanderung"),
    ("Einbürgerung", "ein-auswanderung"), ("Verpflichtungserklärung", "ein-auswanderung"),
    ("Ehrenamtskarte", "engagement-hobby"), ("Fischereischein", "engagement-hobby"), ("Jagdschein", "engagement-hobby"),
    ("Vereinsförderung", "engagement-hobby"), ("Straßenfest", "engagement-hobby"),
    ("Projektförderung", "forschung-foerderung"), ("Denkmalförderung", "forschung-foerderung"),
    ("Klimaschutzzuschuss", "forschung-foerderung"), ("Impfberatung", "gesundheit"), ("Trinkwasseruntersuchung", "gesundheit"),
    ("Pflegewohngeld", "gesundheit"), ("Belehrung nach dem Infektionsschutzgesetz", "gesundheit"),
    ("Meldebescheinigung", "querschnitt"), ("Wohnsitz", "querschnitt"), ("Briefwahl", "querschnitt"),
    ("Beglaubigung", "querschnitt"), ("Melderegisterauskunft", "querschnitt"), ("Führungszeugnis", "recht-ordnung"),
    ("Fundsache", "recht-ordnung"), ("Sondernutzungserlaubnis", "recht-ordnung"), ("Waffenbesitzkarte", "recht-ordnung"),
    ("Lärmbeschwerde", "umwelt"), ("Baumfällung", "umwelt"), ("Sperrmüllabholung", "umwelt"), ("Biotonne", "umwelt"),
    ("Gewerbeanmeldung", "unternehmensfuehrung"), ("Gaststättenerlaubnis", "unternehmensfuehrung"),
    ("Marktstand", "unternehmensfuehrung"), ("Reisegewerbekarte", "unternehmensfuehrung"),
    ("Rentenantrag", "arbeit-ruhestand"), ("Grundsicherung im Alter", "arbeit-ruhestand"),
    ("Arbeitsgelegenheit", "arbeit-ruhestand"), ("Bildungsgutschein", "arbeit-ruhestand"),
]
TITLE_ACTIONS = [
    "beantragen", "anmelden", "abmelden", "ändern", "verlängern", "ersetzen",
    "– Auskunft", "– Widerspruch einlegen", "– Ermäßigung", "– Nachweis anfordern",
]
TITLE_QUALIFIERS = ["", " für Unternehmen", " für Vereine", " im vereinfachten Verfahren"]

SUBJECTS_PLURAL = ["Sie", "Antragstellende", "Eltern und Sorgeberechtigte", "Bevollmächtigte", "Unternehmen"]
SUBJECTS_SINGULAR = [
    "Die zuständige Stelle", "Das Bürgerbüro", "Die Verwaltung", "Die Sachbearbeiterin",
    "Der Fachdienst", "Die Behörde", "Das Amt", "Die Stadtkasse",
]
MODALS_PLURAL = ["müssen", "können", "sollten", "dürfen"]
MODALS_SINGULAR = ["muss", "kann", "sollte", "wird"]
OBJECTS = [
    "den Antrag", "die Unterlagen", "eine Bescheinigung", "den Nachweis", "das Formular",
    "eine Kopie des Ausweises", "die Gebühr", "den Bescheid", "eine Vollmacht",
    "die Meldebestätigung", "einen aktuellen Kontoauszug", "das ärztliche Attest",
    "die Zustimmung des Eigentümers", "eine formlose Erklärung", "alle Angaben",
]
ADVERBIALS = [
    "rechtzeitig", "vor Ablauf der Frist", "in der Regel innerhalb von vier Wochen",
    "schriftlich oder elektronisch", "persönlich", "nach vorheriger Terminvereinbarung",
    "vollständig und lesbar", "im Original", "spätestens zwei Wochen vorher",
    "über das Serviceportal", "gebührenfrei", "auf Verlangen der Behörde",
]
VERBS = [
    "einreichen", "vorlegen", "prüfen", "beantragen", "nachweisen", "ausstellen",
    "bearbeiten", "übermitteln", "bestätigen", "zurücksenden", "erläutern", "anfordern",
]
CLAUSES = [
    "wenn die Voraussetzungen erfüllt sind", "sofern keine Ausnahme vorliegt",
    "damit die Bearbeitung zügig erfolgen kann", "weil die Angaben geprüft werden müssen",
    "bevor ein Bescheid ergehen kann", "falls sich Ihre Verhältnisse ändern",
    "soweit die Satzung nichts anderes bestimmt", "wenn Unterlagen fehlen",
    "damit keine Säumniszuschläge entstehen", "nachdem die Zahlung eingegangen ist",
]
HEADINGS = [
    "Voraussetzungen", "Ablauf", "Hinweise", "Besondere Fälle", "Zuständigkeit",
    "Was Sie wissen sollten", "Vertretung durch andere Personen", "Nach der Antragstellung",
    "Änderungen melden", "Datenschutz",
]
DOCUMENTS = [
    "Personalausweis oder Reisepass", "Meldebescheinigung", "Geburtsurkunde",
    "Nachweis über das Einkommen der letzten drei Monate", "Mietvertrag",
    "Vollmacht, wenn eine andere Person den Antrag stellt", "Lageplan im Maßstab 1:500",
    "Fahrzeugschein (Zulassungsbescheinigung Teil I)", "Nachweis der Haftpflichtversicherung",
    "Aktuelles biometrisches Passfoto", "Handelsregisterauszug", "Bescheinigung des Arbeitgebers",
    "Ärztliches Attest", "Satzung des Vereins", "Kontoverbindung (IBAN)",
]
LEGAL = [
    "§ 3 KAG NRW", "§ 45 Abs. 1b StVO", "§ 6a StVG", "Satzung der Stadt", "§ 14 GewO",
    "§ 63 BauO NRW", "Bundesmeldegesetz (BMG)", "§ 30 BZRG", "Wohngeldgesetz (WoGG)",
    "Personalausweisgesetz (PAuswG)", "Infektionsschutzgesetz (IfSG)", "Gebührensatzung",
]
PROCESSING = ["etwa eine Woche", "zwei bis vier Wochen", "sofort vor Ort", "bis zu drei Monate", "etwa zehn Werktage"]
KEYWORD_SUFFIXES = ["antrag", "bescheid", "gebühr", "formular", "auskunft", "nachweis", "stelle"]

# Form fields to draw from: (id, label, type, extra keys)
FORM_FIELDS = [
    ("name", "Vor- und Nachname", "text", {"required": True, "help": "Wie im Personalausweis"}),
    ("geburtsdatum", "Geburtsdatum", "date", {"required": True}),
    ("email", "E-Mail-Adresse", "email", {"required": True, "help": "Für Rückfragen und die Eingangsbestätigung"}),
    ("telefon", "Telefonnummer", "tel", {}),
    ("strasse", "Straße und Hausnummer", "text", {"required": True}),
    ("plz", "Postleitzahl", "postcode", {"required": True}),
    ("ort", "Wohnort", "text", {"required": True}),
    ("iban", "IBAN für die Erstattung", "iban", {}),
    ("anzahl", "Anzahl", "number", {"min": 1, "max": 10}),
    ("art", "Art des Antrags", "select", {"required": True, "options": ["Erstantrag", "Verlängerung", "Änderung"]}),
    ("zustellung", "Zustellung", "radio", {"required": True, "options": ["per Post", "Abholung im Bürgerbüro"]}),
    ("anmerkungen", "Anmerkungen", "textarea", {"help": "Was wir sonst noch wissen sollten"}),
    ("einwilligung", "Ich bestätige, dass meine Angaben vollständig und richtig sind.", "checkbox", {"required": True}),
]


def slugify(text: str) -> str:
    """Lotse's slug rule (model/src/slug.rs): lowercase ASCII, umlauts spelled out,
    every other character a dash, runs collapsed, none at either end."""
    spelled = {"ä": "ae", "Ä": "ae", "ö": "oe", "Ö": "oe", "ü": "ue", "Ü": "ue", "ß": "ss", "ẞ": "ss"}
    out, dash = [], False
    for ch in text:
        piece = spelled.get(ch)
        if piece is None and ch.isascii() and ch.isalnum():
            piece = ch.lower()
        if piece is None:
            dash = True
            continue
        if dash and out:
            out.append("-")
        dash = False
        out.append(piece)
    return "".join(out)


def rng_for(*parts) -> random.Random:
    """An independent, reproducible random stream per item (string seeds are hashed
    with SHA-512 by Python, so this does not depend on PYTHONHASHSEED)."""
    return random.Random(":".join([SEED, *map(str, parts)]))


def contrast_on_white(hex_colour: str) -> float:
    """WCAG contrast of a colour against white, as Lotse checks `primary`
    (load/config.rs)."""
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(int(hex_colour[i:i + 2], 16)) for i in (1, 3, 5))
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


def region_portals(count: int) -> list[tuple]:
    """The portals of a region of `count`: the fixed 14 first (or a prefix of them),
    then invented towns. Town k depends only on k and the towns before it, so a
    smaller region's portals are a prefix of a larger one's."""
    portals = list(PORTALS[:count])
    slugs = {p[0] for p in PORTALS} | set(RESERVED_AT_ROOT)
    names = {p[2] for p in PORTALS}
    for k in range(count - len(portals)):
        for attempt in range(1000):
            r = rng_for("town", k, attempt)
            short = r.choice(TOWN_HEADS) + r.choice(TOWN_TAILS)
            roll = r.random()
            if roll < 0.06:
                short = "Bad " + short
            elif roll < 0.12:
                short += r.choice(TOWN_ADDITIONS)
            district = k % 13 == 12
            name = f"Kreis {short}" if district else f"{r.choice(['Stadt', 'Stadt', 'Gemeinde'])} {short}"
            if district:
                short = name
            slug = slugify(name if district else short)
            if slug not in slugs and short not in names:
                break
        else:
            raise SystemExit(f"no free town name for portal {len(portals) + 1}")
        slugs.add(slug)
        names.add(short)
        while True:
            colour = "#" + "".join(f"{r.randint(0, 190):02x}" for _ in range(3))
            if contrast_on_white(colour) >= 4.6:
                break
        postcode = f"{r.randint(32000, 59999)}"
        portals.append((slug, name, short, "district" if district else "city", colour,
                        postcode, r.choice(TOWN_STREETS)))
    return portals


# Portal folder names Lotse keeps for the umbrella (generator/src/check/paths.rs).
RESERVED_AT_ROOT = ["themen", "api", "assets", "forms", "suche", "status", "eingang", "postfach", "pagefind"]


# --------------------------------------------------------------------------------------
# The data model (plain dicts), shared by both writers
# --------------------------------------------------------------------------------------


def catalogue(n: int) -> list[dict]:
    """The first n entries of the shared service catalogue. Entry i is the same for
    every n, so the N=100 corpus is a prefix of the N=1300 one."""
    titles = [f"{obj} {act}{qual}" for obj, _ in TITLE_OBJECTS for act in TITLE_ACTIONS for qual in TITLE_QUALIFIERS]
    main_cat = {f"{obj} {act}{qual}": cat for obj, cat in TITLE_OBJECTS for act in TITLE_ACTIONS for qual in TITLE_QUALIFIERS}
    order = rng_for("catalogue")
    order.shuffle(titles)
    if n > len(titles):
        raise SystemExit(f"at most {len(titles)} services per portal")
    entries = []
    for i, title in enumerate(titles[:n]):
        r = rng_for("entry", i)
        cats = [main_cat[title]]
        if r.random() < 0.4:
            extra = r.choice(CATEGORY_IDS)
            if extra not in cats:
                cats.append(extra)
        obj = title.split(" ")[0].rstrip(",")
        entry = {
            "slug": slugify(title),
            "title": title,
            "summary": sentence(r, capital=True) + " " + sentence(r, capital=True),
            "categories": cats,
            "keywords": sorted({obj + s for s in r.sample(KEYWORD_SUFFIXES, r.randint(2, 4))}),
            "provider": "kommune",
            "form": None,
            "login": "none",
        }
        roll = r.random()
        if roll < 0.02:
            entry["provider"] = r.choice(["land", "bund"])
            entry["url"] = f"https://service.{'nrw' if entry['provider'] == 'land' else 'bund'}.de/leistung/{entry['slug']}"
        elif roll < 0.06:
            fields = [FORM_FIELDS[0], FORM_FIELDS[2]] + r.sample(FORM_FIELDS[3:], r.randint(2, 5))
            entry["form"] = {"intro": "Bitte füllen Sie alle Pflichtfelder aus.", "fields": fields}
            entry["login"] = r.choice(["none", "none", "low", "substantial"])
        if r.random() < 0.5:
            entry["leika"] = "".join(r.choice("0123456789") for _ in range(14))
        entries.append(entry)
    return entries


def sentence(r: random.Random, capital: bool = False) -> str:
    if r.random() < 0.5:
        subj, modal = r.choice(SUBJECTS_PLURAL), r.choice(MODALS_PLURAL)
    else:
        subj, modal = r.choice(SUBJECTS_SINGULAR), r.choice(MODALS_SINGULAR)
    s = f"{subj} {modal} {r.choice(OBJECTS)} {r.choice(ADVERBIALS)} {r.choice(VERBS)}"
    if r.random() < 0.6:
        s += f", {r.choice(CLAUSES)}"
    return s + "."


def paragraph(r: random.Random, lo: int = 3, hi: int = 6) -> str:
    return " ".join(sentence(r) for _ in range(r.randint(lo, hi)))


def body_markdown(r: random.Random, entry: dict, portal: tuple) -> str:
    """About 4 KB of Markdown: an intro, four to five sections with paragraphs,
    bullet and numbered lists, emphasis, links, now and then a fee table."""
    slug, name = portal[0], portal[1]
    parts = [paragraph(r, 4, 6)]
    headings = r.sample(HEADINGS, 4)
    for k, heading in enumerate(headings):
        parts.append(f"## {heading}")
        parts.append(paragraph(r, 3, 5))
        if k == 0:
            parts.append("\n".join(f"- {sentence(r)}" for _ in range(r.randint(3, 5))))
        elif k == 1:
            parts.append("\n".join(f"{j}. {sentence(r)}" for j in range(1, r.randint(4, 6))))
        elif k == 2:
            parts.append(
                f"**Wichtig:** {sentence(r)} Weitere Informationen finden Sie auf der "
                f"[Internetseite der {name}](https://www.{slug}.de/{entry['slug']}/) "
                f"oder im *Bürgerbüro*."
            )
        elif k == 3 and r.random() < 0.3:
            parts.append(
                "| Leistung | Gebühr |\n|---|---|\n"
                + "\n".join(f"| {r.choice(OBJECTS).capitalize()} | {r.randint(5, 120)},00 Euro |" for _ in range(4))
            )
    if r.random() < 0.5:
        parts.append("### Häufige Fragen")
        parts.append(paragraph(r, 2, 4))
    return "\n\n".join(parts) + "\n"


def darker(hex_colour: str) -> str:
    """Lotse's --brand-dark (render/extras.rs): each channel times 0.75, rounded."""
    rgb = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{int(c * 0.75 + 0.5):02x}" for c in rgb)


def portal_data(portal: tuple) -> dict:
    slug, name, short, kind, primary, plz, street = portal
    r = rng_for("portal", slug)
    count = 2 + r.randint(0, 1)
    offices = []
    for oid, oname, hours in OFFICES[:count]:
        offices.append({
            "id": oid,
            "name": oname if oid != "buergerbuero" else f"{oname} {short}",
            "email": f"{oid}@{slug}.de",
            "phone": f"0{r.randint(2000, 2399)} {r.randint(10, 99)}-{r.randint(1000, 9999)}",
            "address": f"{street}, {plz} {short}",
            "hours": hours,
            # A valid key: base64 of 32 (deterministic) random bytes.
            "public_key": base64.b64encode(bytes(r.getrandbits(8) for _ in range(32))).decode(),
        })
    return {
        "slug": slug, "name": name, "short_name": short, "kind": kind, "primary": primary,
        "primary_dark": darker(primary),  # only the Hugo copy uses it
        "description": f"Online-Dienstleistungen der {name}: Anträge, Termine und Auskünfte "
        "rund um Bürgerbüro, Standesamt, Steuern und Ordnung.",
        "offices": offices,
    }


def portal_service(entry: dict, portal: tuple, pdata: dict) -> dict:
    """One portal's copy of a catalogue entry: own body, documents, fees, office."""
    r = rng_for("service", portal[0], entry["slug"])
    s = dict(entry)
    office_ids = [o["id"] for o in pdata["offices"]]
    s["office"] = "buergerbuero" if entry["form"] else r.choice(office_ids)
    s["documents"] = r.sample(DOCUMENTS, r.randint(2, 5))
    if r.random() < 0.6:
        s["fees"] = f"{r.randint(5, 80)},00 Euro"
    else:
        s["fees"] = [f"Erstantrag: {r.randint(10, 80)},00 Euro", f"Änderung: {r.randint(5, 30)},00 Euro", "Ermäßigung auf Antrag möglich"]
    if r.random() < 0.4:
        s["deadlines"] = "Innerhalb von zwei Wochen nach Eintritt des Ereignisses"
    s["legal_basis"] = r.sample(LEGAL, r.randint(1, 3))
    s["processing_time"] = r.choice(PROCESSING)
    s["body"] = body_markdown(r, entry, portal)
    return s


# --------------------------------------------------------------------------------------
# TOML writing (small, enough for our data)
# --------------------------------------------------------------------------------------


def tv(value) -> str:
    """A TOML value. JSON strings with ensure_ascii=False are valid TOML basic strings
    for our text (no control characters)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(tv(v) for v in value) + "]"
    raise TypeError(value)


def front_matter(s: dict, extra: dict | None = None, url_key: str = "url") -> str:
    """The service's front matter (TOML between +++ lines). `extra` adds keys at the
    top level (Hugo's taxonomy keys); `url_key` renames `url` (a reserved key in Hugo)."""
    lines = ["+++"]
    lines.append(f"title = {tv(s['title'])}")
    lines.append(f"summary = {tv(s['summary'])}")
    lines.append(f"categories = {tv(s['categories'])}")
    lines.append(f"office = {tv(s['office'])}")
    if s["provider"] != "kommune":
        lines.append(f"provider = {tv(s['provider'])}")
        lines.append(f"{url_key} = {tv(s['url'])}")
    if "leika" in s:
        lines.append(f"leika = {tv(s['leika'])}")
    lines.append(f"keywords = {tv(s['keywords'])}")
    lines.append(f"documents = {tv(s['documents'])}")
    lines.append(f"fees = {tv(s['fees'])}")
    if "deadlines" in s:
        lines.append(f"deadlines = {tv(s['deadlines'])}")
    lines.append(f"legal_basis = {tv(s['legal_basis'])}")
    lines.append(f"processing_time = {tv(s['processing_time'])}")
    if s["login"] != "none":
        lines.append(f"login = {tv(s['login'])}")
    for key, value in (extra or {}).items():
        lines.append(f"{key} = {tv(value)}")
    if s["form"]:
        lines.append("")
        lines.append("[form]")
        lines.append(f"intro = {tv(s['form']['intro'])}")
        for fid, label, ftype, more in s["form"]["fields"]:
            lines.append("")
            lines.append("[[form.fields]]")
            lines.append(f"id = {tv(fid)}")
            lines.append(f"label = {tv(label)}")
            lines.append(f"type = {tv(ftype)}")
            for key, value in more.items():
                lines.append(f"{key} = {tv(value)}")
    lines.append("+++")
    return "\n".join(lines) + "\n\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------------------
# Lotse tree
# --------------------------------------------------------------------------------------


def write_lotse(root: Path, portals: list[dict]) -> None:
    """Everything but the service files (write_services)."""
    content = root / "content"
    write(content / "region.toml", "\n".join([
        f"name = {tv(REGION['name'])}",
        f"slug = {tv(REGION['slug'])}",
        f"base_url = {tv(REGION['base_url'])}",
        f"language = {tv(REGION['language'])}",
        f"description = {tv(REGION['description'])}",
        f"operator = {tv(REGION['operator'])}",
        "",
        "[theme]",
        f"primary = {tv(REGION['primary'])}",
        "",
    ]))
    cats = []
    for cid, title, desc in CATEGORIES:
        cats += ["[[categories]]", f"id = {tv(cid)}", f"title = {tv(title)}", f"description = {tv(desc)}", ""]
    write(content / "categories.toml", "\n".join(cats))
    for p in portals:
        lines = [
            f"name = {tv(p['name'])}",
            f"short_name = {tv(p['short_name'])}",
            f"kind = {tv(p['kind'])}",
            f"description = {tv(p['description'])}",
            "",
            "[theme]",
            f"primary = {tv(p['primary'])}",
        ]
        for o in p["offices"]:
            lines += ["", "[[offices]]"] + [f"{k} = {tv(o[k])}" for k in ("id", "name", "email", "phone", "address", "hours", "public_key")]
        pdir = content / "portals" / p["slug"]
        write(pdir / "portal.toml", "\n".join(lines) + "\n")
    # The theme is the repository's own, so the benchmark follows template changes.
    themes = root / "themes"
    themes.mkdir(parents=True, exist_ok=True)
    link = themes / "default"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(REPO / "themes" / "default")


# --------------------------------------------------------------------------------------
# Hugo tree
# --------------------------------------------------------------------------------------


def tax_key(portal_slug: str) -> str:
    """Hugo taxonomy holding one portal's categories: themen_<portal>."""
    return "themen_" + portal_slug.replace("-", "_")


def write_hugo(root: Path, portals: list[dict]) -> None:
    """Everything but the service files (write_services)."""
    # Site configuration: one taxonomy for the umbrella's topics (/themen/<id>/) and
    # one per portal, whose terms are the portal's topic pages (/<portal>/themen/<id>/).
    taxonomies = {"thema": "themen"}
    permalinks = {}
    taxportal = {}
    for p in portals:
        key = tax_key(p["slug"])
        taxonomies["thema_" + key[len("themen_"):]] = key  # singular -> plural
        permalinks[key] = f"/{p['slug']}/themen/:slug/"
        taxportal[key] = p["slug"]
    asset_version = hashlib.sha256((REPO / "themes/default/static/style.css").read_bytes()).hexdigest()[:8]
    cfg = [
        f"baseURL = {tv(REGION['base_url'] + '/')}",
        'languageCode = "de"',
        'defaultContentLanguage = "de"',
        f"title = {tv(REGION['name'])}",
        # What Lotse does not make: RSS feeds and the list-of-terms pages.
        'disableKinds = ["RSS", "taxonomy"]',
        'ignoreErrors = ["error-disable-taxonomy"]',
        "enableRobotsTXT = true",
        "disableHugoGeneratorInject = true",
        'timeout = "3600s"',
        "",
        "[outputs]",
        'home = ["HTML", "themecss"]',
        'section = ["HTML"]',
        'page = ["HTML"]',
        'term = ["HTML"]',
        "",
        "[outputFormats.themecss]",
        'mediaType = "text/css"',
        'baseName = "theme"',
        "isPlainText = true",
        "",
        "[outputFormats.formjson]",
        'mediaType = "application/json"',
        'baseName = "form"',
        "isPlainText = true",
        "",
        # Lotse's Markdown has neither smart quotes nor autolinks.
        "[markup.goldmark.extensions]",
        "typographer = false",
        "linkify = false",
        "",
        "[params]",
        f"asset_version = {tv(asset_version)}",
        "",
        "[params.taxportal]",
    ] + [f"{k} = {tv(v)}" for k, v in taxportal.items()] + ["", "[taxonomies]"] + [
        f"{k} = {tv(v)}" for k, v in taxonomies.items()
    ] + ["", "[permalinks]"] + [f"{k} = {tv(v)}" for k, v in permalinks.items()]
    write(root / "hugo.toml", "\n".join(cfg) + "\n")

    # Data: the same region, categories and portals as the Lotse tree.
    data = root / "data"
    write(data / "region.json", json.dumps(dict(REGION, primary_dark=darker(REGION["primary"])), ensure_ascii=False, indent=1))
    write(data / "categories.json", json.dumps(
        {"list": [{"id": c, "title": t, "description": d} for c, t, d in CATEGORIES]}, ensure_ascii=False, indent=1))
    # Cities first, then the district, each by name: the order of the umbrella home.
    order = sorted(portals, key=lambda p: (p["kind"] == "district", p["name"].lower()))
    write(data / "portal_order.json", json.dumps({"list": [p["slug"] for p in order]}, indent=1))
    for p in portals:
        write(data / "portals" / f"{p['slug']}.json", json.dumps(p, ensure_ascii=False, indent=1))

    content = root / "content"
    write(content / "_index.md", f"+++\ntitle = {tv(REGION['name'])}\n+++\n")
    write(content / "suche" / "_index.md", "+++\ntitle = \"Suche\"\nlayout = \"search\"\numbrella = true\n+++\n")
    for p in portals:
        pdir = content / p["slug"]
        write(pdir / "_index.md", f"+++\ntitle = {tv(p['name'])}\nlayout = \"portal_home\"\n"
              f"outputs = [\"HTML\", \"themecss\"]\n+++\n")
        write(pdir / "a-z" / "_index.md", "+++\ntitle = \"Leistungen von A bis Z\"\nlayout = \"az\"\n+++\n")
        write(pdir / "suche" / "_index.md", "+++\ntitle = \"Suche\"\nlayout = \"search\"\n+++\n")

    # Templates and static files.
    shutil.copytree(HERE / "hugo" / "layouts", root / "layouts", dirs_exist_ok=True)
    # The theme's static files, as Lotse copies them to assets/.
    shutil.copytree(REPO / "themes/default/static", root / "static" / "assets", dirs_exist_ok=True)


# --------------------------------------------------------------------------------------
# Service files, one portal at a time
# --------------------------------------------------------------------------------------


_CATALOGUE: dict[int, list[dict]] = {}


def write_services(job: tuple) -> tuple[int, int]:
    """Writes one portal's service files into both trees (the Hugo one unless
    `hugo` is false), each as soon as it is generated; returns (files, body bytes)."""
    out, portal, n, hugo = job
    entries = _CATALOGUE.get(n)
    if entries is None:
        entries = _CATALOGUE[n] = catalogue(n)
    pdata = portal_data(portal)
    slug = portal[0]
    lotse_dir = out / "lotse" / "content" / "portals" / slug / "services"
    hugo_dir = out / "hugo" / "content" / slug
    lotse_dir.mkdir(parents=True, exist_ok=True)
    if hugo:
        hugo_dir.mkdir(parents=True, exist_ok=True)
    md_bytes = 0
    for e in entries:
        s = portal_service(e, portal, pdata)
        md_bytes += len(s["body"].encode())
        (lotse_dir / f"{s['slug']}.md").write_text(front_matter(s) + s["body"], encoding="utf-8")
        if hugo:
            extra = {"themen": s["categories"], tax_key(slug): s["categories"], "service_id": s["slug"]}
            if s["form"]:
                extra["outputs"] = ["HTML", "formjson"]
            (hugo_dir / f"{s['slug']}.md").write_text(
                front_matter(s, extra, url_key="external_url") + s["body"], encoding="utf-8")
    return len(entries), md_bytes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--services", type=int, required=True, help="local services per portal (N)")
    ap.add_argument("--out", type=Path, required=True, help="output folder (replaced)")
    ap.add_argument("--portals", type=int, default=len(PORTALS),
                    help=f"portals in the region (default {len(PORTALS)}; more are invented towns)")
    ap.add_argument("--lotse-only", action="store_true", help="write the Lotse tree only, no Hugo site")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="portals written at once, in separate processes (default: the CPUs)")
    args = ap.parse_args()
    if args.portals < 1 or args.services < 1 or args.jobs < 1:
        raise SystemExit("--portals, --services and --jobs must be at least 1")
    catalogue(args.services)  # fails early if N is too large

    if args.out.exists():
        shutil.rmtree(args.out)
    portals = region_portals(args.portals)
    pdatas = [portal_data(p) for p in portals]
    hugo = not args.lotse_only
    write_lotse(args.out / "lotse", pdatas)
    if hugo:
        write_hugo(args.out / "hugo", pdatas)
    jobs = [(args.out, p, args.services, hugo) for p in portals]
    total = md_bytes = 0
    progress = len(portals) > len(PORTALS)

    def done(i: int, result: tuple[int, int]) -> None:
        nonlocal total, md_bytes
        total += result[0]
        md_bytes += result[1]
        if progress and ((i + 1) % 20 == 0 or i + 1 == len(portals)):
            print(f"  {i + 1}/{len(portals)} portals, {total} service pages", file=sys.stderr, flush=True)

    if args.jobs == 1:
        for i, job in enumerate(jobs):
            done(i, write_services(job))
    else:
        with ProcessPoolExecutor(max_workers=min(args.jobs, len(jobs))) as pool:
            for i, result in enumerate(pool.map(write_services, jobs)):
                done(i, result)
    print(f"corpus: {len(portals)} portals x {args.services} services = {total} service pages, "
          f"{md_bytes / 1e6:.1f} MB of Markdown bodies -> {args.out}")


if __name__ == "__main__":
    main()
