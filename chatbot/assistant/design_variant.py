"""Builds the other design of the report intents for measurement (chatbot/reports/): one
intent ``report_problem`` with the service as an entity, instead of an intent per service.

    python design_variant.py OUT_DIR    # writes OUT_DIR/nlu.yml and OUT_DIR/heldout-{en,es}.yml

Each ``report_<service>`` example becomes ``report_problem``; the longest word of the
service's vocabulary found in it is annotated as the entity ``service`` with the service code
as its value. Examples that name no such word (\"light on my corner been out a week\") keep
no entity: that is what this design cannot learn from."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).parent
VOCABULARY = {
    "pothole": "pothole potholes pot hole pot holes potholw pothol hole holes crater sinkhole "
    "dip bache baches vache hoyo hoyos agujero pozo socavon hundimiento",
    "streetlight": "streetlight streetlights street light street lights streetlite street lamp "
    "lamp post lamppost light lights light pole lamp luz luces farola farol alumbrado "
    "luminaria poste de luz lampara foco",
    "graffiti": "graffiti graffitti grafiti grafitti tagging tagged tags tag spray paint "
    "spray painted spraypainting pintas pintaron rayaron grafitearon grafiteo",
    "illegal_dumping": "dumped dumping dumpin dump junk illegal dumping tiraron tiradero tiran "
    "dejaron botaron abandono tirada tiradas",
    "abandoned_vehicle": "abandoned car car vehicle van truck sedan trailer abandonded vehicle "
    "carro coche auto camioneta vehiculo camion remolque",
    "missed_collection": "trash garbage recycling recyling pickup pick up collection yard waste "
    "compost bins basura reciclaje recoger recogieron recoleccion botes composta",
    "sidewalk_damage": "sidewalk sidwalk footpath walkway pavement banqueta acera vereda losas",
    "tree_hazard": "tree branch limb branches trees arbol rama ramas",
    "traffic_signal": "traffic light traffic lights traffic signal stop light stoplight signal "
    "signals walk signal crosswalk light semaforo semaforos boton peatonal",
    "water_leak": "water leak leak hydrant water main pipe watr agua fuga hidrante tuberia tubo",
    "rodents": "rats rat mice rodents rodent rodants ratas rata ratones roedores",
    "dead_animal": "dead animal dead roadkill muerto muerta atropellado",
}


def _words(code: str) -> list[str]:
    text = VOCABULARY[code]
    phrases = set(text.split())
    # Multi-word phrases as written above (greedy, longest first).
    tokens = text.split()
    for size in (3, 2):
        phrases |= {" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)}
    return sorted(phrases, key=len, reverse=True)


def _annotate(text: str, code: str) -> str:
    plain = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    for phrase in _words(code):
        match = re.search(rf"\b{re.escape(phrase)}\b", plain, flags=re.IGNORECASE)
        if match:
            value = '{"entity": "service", "value": "' + code + '"}'
            return f"{plain[: match.start()]}[{match[0]}]{value}{plain[match.end() :]}"
    return plain


def _convert(path: Path) -> list[dict[str, object]]:
    out: dict[str, list[str]] = {}
    for block in yaml.safe_load(path.read_text())["nlu"]:
        if "intent" not in block:
            continue
        intent = block["intent"]
        lines = [
            line.strip()[2:] for line in block["examples"].splitlines() if line.strip()[:2] == "- "
        ]
        if intent.startswith("report_") and intent != "report_problem":
            code = intent[len("report_") :]
            lines = [_annotate(line, code) for line in lines]
            intent = "report_problem"
        out.setdefault(intent, []).extend(lines)
    return [
        {"intent": name, "examples": "".join(f"- {line}\n" for line in lines)}
        for name, lines in out.items()
    ]


def main() -> None:
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    training = []
    for path in sorted((HERE / "data" / "nlu").glob("*.yml")):
        training += _convert(path)
    regex = [{"regex": "request_id", "examples": "- [Ss][Rr]-?\\d{4}-?\\d{6}\n"}]
    document = {"version": "3.1", "nlu": regex + training}
    (target / "nlu.yml").write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    # The same pipeline plus the synonym mapper: an annotated "hole" means the value pothole.
    config = yaml.safe_load((HERE / "config.yml").read_text())
    names = [c["name"] for c in config["pipeline"]]
    config["pipeline"].insert(
        names.index("CRFEntityExtractor") + 1, {"name": "EntitySynonymMapper"}
    )
    (target / "config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    for language in ("en", "es"):
        # Held out: expected service kept in the intent name for scoring (evaluate.py).
        source = HERE / "heldout" / f"{language}.yml"
        (target / f"heldout-{language}.yml").write_text(source.read_text())


if __name__ == "__main__":
    main()
