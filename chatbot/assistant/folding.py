"""The assistant's tokenizer: Rasa's whitespace tokenizer with the diacritics folded out of
every token ("ổ gà" → "o ga", "đèn" → "den"), so a message typed without them, as many
residents type Vietnamese on a phone, meets the same word and character features as one
typed with them (chatbot/reports/README.md has the measurement that chose it). Folding
keeps every character's place (one letter for one letter), so the tokens' offsets, the
entities and the message's own text are unchanged; English and Spanish lose only their
accents, which residents leave out as often as not.

config.yml names it ``chatbot.assistant.folding.FoldingTokenizer``: Rasa runs from the
project's root (backend/scripts/chatbot-*.sh), which it puts on ``sys.path``."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

SPECIAL = {"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L"}


@lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    if char in SPECIAL:
        return SPECIAL[char]
    base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return base if len(base) == 1 else char


def fold(text: str) -> str:
    """The text without its diacritics, letter for letter (same length)."""
    if text.isascii():
        return text
    composed = unicodedata.normalize("NFC", text)
    # A decomposed text ("o" + combining marks) is folded as it stands: the marks stay, so
    # the offsets still hold.
    return "".join(fold_char(c) for c in (composed if len(composed) == len(text) else text))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class FoldingTokenizer(WhitespaceTokenizer):
    """Whitespace tokens of the message's text, diacritics folded."""

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        tokens = super().tokenize(message, attribute)
        if attribute != TEXT:
            return tokens
        for token in tokens:
            token.text = fold(token.text)
            token.lemma = fold(token.lemma)
        return tokens
