"""The catalog's shape: pydantic models that are the single source of truth.

Field docstrings become the descriptions of the published JSON Schema, so write them for
editors. Every model inherits `Strict`: unknown keys are errors, values are frozen, and
numbers are not silently coerced from text.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from functools import total_ordering
from typing import Annotated, Any, Literal, Union
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema

SLUG_PATTERN = r"^[a-z0-9]+(?:[.-][a-z0-9]+)*$"


class Strict(BaseModel):
    """Base of every catalog entity: no unknown keys, no coercion, immutable."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, use_attribute_docstrings=True,
        regex_engine="python-re",
    )


_FIELD_SETS: dict[frozenset, set] = {}


def share_repeats(value: Any, strings: dict[str, str]) -> None:
    """Make the parts of validated entities that repeat across them one object each: equal
    strings, and the sets of fields pydantic keeps per instance.

    pydantic gives every instance a set of the fields it was given: these sets were 45% of the
    validated models' memory (18.7 of 41.7 MB at 1,000 models). Entities are frozen, so the set
    is never changed (and nothing here reads it but pydantic's exclude_unset, which the site does
    not use). Strings repeat as much: source ids, settings, notes such as "source undated; dated
    at the model's release" (113 times in data/models/). Each file is parsed on its own, so
    every repeat was its own object; pickled entities coming back from workers too.
    `strings` maps each string met so far to its one object: the caller keeps it for one build
    (a preview server builds again and again, and old strings should not outlive their build)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, BaseModel):
            fields = item.__pydantic_fields_set__
            shared = _FIELD_SETS.setdefault(frozenset(fields), fields)
            if shared is not fields:
                object.__setattr__(item, "__pydantic_fields_set__", shared)
            attributes = item.__dict__
            for name, field_value in attributes.items():
                if type(field_value) is str:
                    attributes[name] = strings.setdefault(field_value, field_value)
                elif isinstance(field_value, (BaseModel, list)):
                    stack.append(field_value)
        elif isinstance(item, list):
            for index, element in enumerate(item):
                if type(element) is str:
                    item[index] = strings.setdefault(element, element)
                elif isinstance(element, (BaseModel, list)):
                    stack.append(element)


# --- scalar types -------------------------------------------------------------------------

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN, max_length=80)]
"""An id: lowercase letters and digits, words joined by '-' or '.'."""

SourceId = Slug
Text = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=False)]
Prose = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]


def _check_https(value: str) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("url_type", "expected a url as text")
    parts = urlsplit(value)
    if parts.scheme.lower() != "https":
        raise PydanticCustomError(
            "https_url", "'{url}' is not an https url",
            {"url": value[:120]},
        )
    if not parts.netloc or any(c.isspace() for c in value) or "<" in value or ">" in value:
        raise PydanticCustomError("https_url", "'{url}' is not a valid url", {"url": value[:120]})
    return value


class _HttpsUrl(str):
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            _check_https, serialization=core_schema.to_string_ser_schema()
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict:
        return {"type": "string", "format": "uri", "pattern": "^https://"}


HttpsUrl = Annotated[str, _HttpsUrl]
"""An absolute https url."""


@total_ordering
class PartialDate:
    """An ISO date that may stop at the month or the year: 2024-07-23, 2024-12 or 2024."""

    __slots__ = ("year", "month", "day")
    _PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")

    def __init__(self, year: int, month: int | None = None, day: int | None = None):
        import datetime

        if day is not None:
            datetime.date(year, month or 1, day)  # raises ValueError on 2024-02-30
        elif month is not None and not 1 <= month <= 12:
            raise ValueError("month out of range")
        self.year, self.month, self.day = year, month, day

    @classmethod
    def parse(cls, value: Any) -> "PartialDate":
        if isinstance(value, PartialDate):
            return value
        if isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 2999:
            return cls(value)
        match = cls._PATTERN.match(value) if isinstance(value, str) else None
        if not match:
            raise PydanticCustomError(
                "iso_date", "'{value}' is not a date; write YYYY-MM-DD (or YYYY-MM, YYYY)",
                {"value": str(value)[:60]},
            )
        try:
            return cls(*(int(g) if g else None for g in match.groups()))
        except ValueError:
            raise PydanticCustomError("iso_date", "'{value}' is not a real calendar date",
                                      {"value": value}) from None

    @property
    def precision(self) -> str:
        return "day" if self.day else "month" if self.month else "year"

    def earliest(self):
        import datetime

        return datetime.date(self.year, self.month or 1, self.day or 1)

    def latest(self):
        import calendar
        import datetime

        month = self.month or 12
        day = self.day or calendar.monthrange(self.year, month)[1]
        return datetime.date(self.year, month, day)

    def sort_key(self) -> tuple:
        return (self.year, self.month or 0, self.day or 0)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PartialDate) and self.sort_key() == other.sort_key()

    def __lt__(self, other: "PartialDate") -> bool:
        return self.sort_key() < other.sort_key()

    def __hash__(self) -> int:
        return hash(self.sort_key())

    def __str__(self) -> str:
        text = f"{self.year:04d}"
        if self.month:
            text += f"-{self.month:02d}"
        if self.day:
            text += f"-{self.day:02d}"
        return text

    __repr__ = __str__

    def __reduce__(self):
        return (PartialDate, (self.year, self.month, self.day))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse, serialization=core_schema.to_string_ser_schema()
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict:
        return {"anyOf": [{"type": "string", "pattern": r"^\d{4}(-\d{2}(-\d{2})?)?$"},
                          {"type": "integer", "minimum": 1900, "maximum": 2999}],
                "description": "ISO date: YYYY-MM-DD, or YYYY-MM / YYYY when the source is no more precise"}


_SUFFIX = {"K": 10**3, "M": 10**6, "B": 10**9, "T": 10**12}
_COUNT_PATTERN = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMBT])$")


class Count:
    """A whole quantity written as people write it ('405B', '15.6T', '128K', 131072, '3.8e25'),
    stored exactly. K, M, B and T are decimal: 128K is 128,000."""

    __slots__ = ("exact", "written")

    def __init__(self, exact: int, written: str):
        self.exact, self.written = exact, written

    @classmethod
    def parse(cls, value: Any) -> "Count":
        if isinstance(value, Count):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                raise PydanticCustomError("count", "a count cannot be negative")
            return cls(value, str(value))
        if isinstance(value, str):
            text = value.strip().replace(",", "").replace("_", "")
            match = _COUNT_PATTERN.match(text.upper()) if text[-1:].isalpha() else None
            try:
                if match:
                    number = Decimal(match.group(1)) * _SUFFIX[match.group(2)]
                elif re.fullmatch(r"\d+(\.\d+)?[eE]\+?\d+|\d+", text):
                    number = Decimal(text)
                else:
                    number = None
            except InvalidOperation:
                number = None
            if number is not None and number == number.to_integral_value():
                return cls(int(number), value.strip())
        raise PydanticCustomError(
            "count", "'{value}' is not a count; write a whole number such as 131072, or 405B, 15.6T, 128K",
            {"value": str(value)[:60]},
        )

    def __int__(self) -> int:
        return self.exact

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Count) and self.exact == other.exact

    def __hash__(self) -> int:
        return hash(self.exact)

    def __repr__(self) -> str:
        return f"Count({self.written!r})"

    def __reduce__(self):
        return (Count, (self.exact, self.written))

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse, serialization=core_schema.plain_serializer_function_ser_schema(lambda c: c.exact)
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict:
        # An editor's YAML 1.2 reads an unquoted 3.8e25 as a number; the builder reads it exactly.
        return {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "number", "minimum": 0},
                          {"type": "string", "pattern": r"^\d+(\.\d+)?\s*[KMBTkmbt]$|^\d+(\.\d+)?[eE]\+?\d+$"}]}


class CitedValue(Strict):
    """A value with its own citation, overriding the block's default source."""

    value: Any
    """The value, in the same form as the short way of writing it."""
    source: SourceId | None = None
    """Id of an entry in this model's `sources` list; when absent, the block's source."""
    note: Text | None = None
    """A short remark on the value, shown beside it."""


def _cited_tag(value: Any) -> str:
    return "cited" if isinstance(value, (dict, CitedValue)) else "plain"


def cited(kind: Any, name: str) -> Any:
    """A value written plainly (cited by its block's `source`) or as {value, source, note}."""
    return Annotated[
        Union[Annotated[kind, Tag("plain")], Annotated[_cited_model(kind, name), Tag("cited")]],
        Discriminator(_cited_tag),
    ]


_CITED_MODELS: dict[str, type] = {}


def _cited_model(kind: Any, name: str) -> type:
    """A CitedValue subclass whose `value` has the given type, one per name."""
    if name not in _CITED_MODELS:
        _CITED_MODELS[name] = type(
            f"Cited{name}", (CitedValue,),
            {"__annotations__": {"value": kind}, "__doc__": CitedValue.__doc__, "__module__": __name__,
             # made here, it has no source to read field docstrings from (`value` has none, as
             # before): pydantic's search for one walked every frame of the import, a third of
             # this module's import time, which every build process pays
             "model_config": ConfigDict(use_attribute_docstrings=False)},
        )
    return _CITED_MODELS[name]


def plain(value: Any) -> Any:
    """The value of a field written in either form."""
    return value.value if isinstance(value, CitedValue) else value


def source_of(value: Any, default: str) -> str:
    return value.source or default if isinstance(value, CitedValue) else default


PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Modality = Literal["text", "image", "audio", "video"]
Precision = Literal["fp32", "bf16", "fp16", "fp8", "int8", "fp4", "mxfp4", "int4"]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")]
PostTraining = Literal["sft", "rlhf", "dpo", "rejection-sampling", "ppo", "grpo", "rl", "distillation",
                       "orpo", "kto", "rlvr", "model-merging"]
PositionEncoding = Literal["rope", "rope-llama3", "rope-yarn", "rope-linear", "rope-dynamic", "rope-longrope",
                           "irope", "alibi", "learned", "none"]

CitedCount = cited(Count, "Count")
CitedInt = cited(PositiveInt, "Int")
CitedFloat = cited(NonNegativeFloat, "Float")
CitedBool = cited(bool, "Bool")
CitedShortText = cited(Text, "Text")
CitedDate = cited(PartialDate, "Date")
CitedSlug = cited(Slug, "Id")
CitedArchitectureType = cited(Literal["dense", "moe"], "ArchitectureType")
CitedAttention = cited(Literal["mha", "mqa", "gqa", "mla"], "Attention")
CitedPositionEncoding = cited(PositionEncoding, "PositionEncoding")
CitedPrecision = cited(Precision, "Precision")
CitedPostTraining = cited(list[PostTraining], "PostTraining")
CitedModalities = cited(list[Modality], "Modalities")
CitedLanguages = cited(list[LanguageCode], "Languages")
CitedStrings = cited(list[Text], "Strings")




# --- sources ------------------------------------------------------------------------------

class Citation(Strict):
    """Where a fact can be checked: a public page with its publisher and date."""

    title: Text
    """The page's title as it appears on the page."""
    url: HttpsUrl
    """The page's canonical https url."""
    publisher: Text
    """Who published the page (a company, a site, an author)."""
    date: PartialDate | None = None
    """The date the page carries: publication or last update."""
    accessed: PartialDate | None = None
    """When an editor read the page; for living pages that carry no date (config files, docs)."""
    note: Text | None = None
    """What this source is used for, or how far to trust it."""

    @model_validator(mode="after")
    def _dated(self) -> "Citation":
        if self.date is None and self.accessed is None:
            raise PydanticCustomError(
                "undated_source", "a source needs its `date` (when published) or `accessed` (when read)")
        return self


class Source(Citation):
    """One entry of a model's numbered source list."""

    id: Slug
    """The id other fields of this model cite."""
    primary: bool = False
    """True for the model's own publisher (model card, announcement, config); primary sources win disagreements."""


class CitedText(Strict):
    """A sentence with its source."""

    text: Prose
    """Markdown; raw HTML is not rendered."""
    source: SourceId
    """Id of an entry in this model's `sources` list."""


class CitedProse(Strict):
    """Prose drawing on one or more sources."""

    text: Prose
    """Markdown; raw HTML is not rendered."""
    sources: list[SourceId] = Field(min_length=1)
    """Ids of the entries in this model's `sources` list the prose rests on."""


# --- the model file -----------------------------------------------------------------------

class Architecture(Strict):
    """The network as its config or card describes it; the diagram is drawn from this block."""

    source: SourceId
    """Default citation for every value of this block."""
    type: CitedArchitectureType
    """dense, or moe (mixture of experts)."""
    total_params: CitedCount
    """All parameters, as the publisher states them (405B, 671B)."""
    active_params: CitedCount | None = None
    """Parameters used per token, as the publisher states them (never computed here)."""
    context_window: CitedCount | None = None
    """Longest supported input in tokens (131072; 128K means 128,000)."""
    attention: CitedAttention | None = None
    """mha (multi-head), mqa (multi-query), gqa (grouped-query) or mla (multi-head latent)."""
    attention_note: CitedShortText | None = None
    """Variants such as alternating sliding-window layers."""
    sliding_window: CitedCount | None = None
    """Window of the sliding-window attention layers, in tokens."""
    position_encoding: CitedPositionEncoding | None = None
    """How positions are encoded: rope and its scaling variants, irope, alibi, learned, none."""
    rope_theta: CitedFloat | None = None
    """RoPE base frequency."""
    rope_scaling_factor: CitedFloat | None = None
    """RoPE scaling factor from the config's rope_scaling."""
    layers: CitedInt | None = None
    """Number of transformer blocks (num_hidden_layers)."""
    hidden_size: CitedInt | None = None
    """Model width (hidden_size)."""
    intermediate_size: CitedInt | None = None
    """Width of the MLP (of each expert, for mixture-of-experts models)."""
    attention_heads: CitedInt | None = None
    """Query heads (num_attention_heads)."""
    kv_heads: CitedInt | None = None
    """Key-value heads (num_key_value_heads)."""
    head_dim: CitedInt | None = None
    """Dimension of a head when the config states it; otherwise derived as hidden_size / attention_heads."""
    vocab_size: CitedInt | None = None
    """Tokens in the vocabulary."""
    tokenizer: CitedShortText | None = None
    """The tokenizer, as its publisher names it."""
    activation: CitedShortText | None = None
    """The MLP's activation function (the config's hidden_act)."""
    mlp: CitedShortText | None = None
    """The MLP's form: swiglu, geglu, gelu …"""
    tie_embeddings: CitedBool | None = None
    """Whether input and output embeddings share weights."""
    experts_total: CitedInt | None = None
    """Routed experts per mixture-of-experts layer."""
    experts_active: CitedInt | None = None
    """Routed experts chosen per token."""
    shared_experts: CitedInt | None = None
    """Experts every token passes through, besides the routed ones."""
    kv_lora_rank: CitedInt | None = None
    """Rank of the compressed key-value latent (multi-head latent attention)."""
    qk_rope_head_dim: CitedInt | None = None
    """Per-head dimension of the decoupled RoPE key (multi-head latent attention)."""
    native_precision: CitedPrecision | None = None
    """The precision the weights were released in."""

    @model_validator(mode="after")
    def _consistent(self) -> "Architecture":
        moe = plain(self.type) == "moe"
        if moe and (self.experts_total is None or self.experts_active is None):
            raise PydanticCustomError(
                "moe_incomplete", "a mixture-of-experts model needs experts_total and experts_active")
        if not moe and (self.experts_total is not None or self.experts_active is not None):
            raise PydanticCustomError("dense_experts", "a dense model has no experts; set type: moe or remove them")
        if self.active_params is not None and plain(self.active_params).exact > plain(self.total_params).exact:
            raise PydanticCustomError("active_params", "active_params cannot exceed total_params")
        if (self.experts_total is not None and self.experts_active is not None
                and plain(self.experts_active) > plain(self.experts_total)):
            raise PydanticCustomError("experts", "experts_active cannot exceed experts_total")
        if (self.kv_heads is not None and self.attention_heads is not None
                and plain(self.kv_heads) > plain(self.attention_heads)):
            raise PydanticCustomError("kv_heads", "kv_heads cannot exceed attention_heads")
        return self


class Training(Strict):
    """How the model was trained."""

    source: SourceId
    """Default citation for every value of this block."""
    pretraining_tokens: CitedCount | None = None
    """Tokens seen in pretraining (15.6T)."""
    knowledge_cutoff: CitedDate | None = None
    """Latest date of the pretraining data."""
    hardware: CitedShortText | None = None
    """Accelerators used, as the publisher names them."""
    gpu_count: CitedCount | None = None
    """Accelerators in the largest training run."""
    gpu_hours: CitedCount | None = None
    """Accelerator hours for training (30.84M)."""
    compute_flops: CitedCount | None = None
    """Training compute in floating-point operations (3.8e25)."""
    emissions_location_tco2eq: CitedFloat | None = None
    """Location-based greenhouse-gas emissions, tonnes CO2eq."""
    emissions_market_tco2eq: CitedFloat | None = None
    """Market-based greenhouse-gas emissions, tonnes CO2eq."""
    post_training: CitedPostTraining | None = None
    """Post-training methods, in the order applied."""
    data_released: CitedBool | None = None
    """Whether the training data is published."""
    training_code_released: CitedBool | None = None
    """Whether the training code is published."""


class Capabilities(Strict):
    """What the model takes and gives, and the API features commonly offered with it."""

    source: SourceId
    """Default citation for every value of this block."""
    input_modalities: CitedModalities | None = None
    """Kinds of input: text, image, audio, video."""
    output_modalities: CitedModalities | None = None
    """Kinds of output."""
    languages: CitedLanguages | None = None
    """Officially supported languages, ISO 639-1 codes."""
    tool_calling: CitedBool | None = None
    """Native function / tool calling."""
    json_mode: CitedBool | None = None
    """Constrained JSON output."""
    streaming: CitedBool | None = None
    """Token streaming."""
    reasoning: CitedBool | None = None
    """An explicit reasoning (thinking) mode."""
    stop_tokens: CitedStrings | None = None
    """Default stop tokens."""
    supported_parameters: CitedStrings | None = None
    """Request parameters the source lists as supported (temperature, top_p, tools …)."""


class Score(Strict):
    """One published benchmark result."""

    benchmark: Slug
    """Id in benchmarks.yaml."""
    setting: Text
    """How it was run, as the source states it: '0-shot CoT', '5-shot', 'pass@1'."""
    score: float
    """The score exactly as published, in the benchmark's unit."""
    date: PartialDate
    """When the source published the score."""
    source: SourceId
    """Id of an entry in this model's `sources` list."""
    note: Text | None = None
    """A remark shown beside the score."""


class Offer(Strict):
    """The model served by a provider: its price, speed and data policy at a date."""

    provider: Slug
    """Id in providers.yaml."""
    model_id: Text | None = None
    """The model's id in the provider's API."""
    precision: Precision | None = None
    """Precision served, as the source states it."""
    input_price: NonNegativeFloat | None = None
    """US dollars per million input tokens."""
    output_price: NonNegativeFloat | None = None
    """US dollars per million output tokens."""
    output_speed: Annotated[float, Field(gt=0)] | None = None
    """Output tokens per second, as measured by the source."""
    as_of: PartialDate
    """When the price or speed was published or measured."""
    source: SourceId
    """Id of an entry in this model's `sources` list."""
    trains_on_prompts: bool | None = None
    """Whether the provider trains on prompts."""
    retains_prompts: bool | None = None
    """Whether the provider retains prompts."""
    region: Text | None = None
    """Where it is served."""
    tier: Text | None = None
    """A named tier, such as 'free'."""
    launched: PartialDate | None = None
    """When the provider started serving the model."""
    end_of_life: PartialDate | None = None
    """When the provider stops (or stopped) serving it."""
    note: Text | None = None
    """A remark shown beside the offer."""


class Quantizations(Strict):
    """Quantized weight formats published for the model."""

    formats: list[Slug] = Field(min_length=1)
    """Ids in formats.yaml."""
    verified_on: PartialDate
    """When the list was checked."""
    source: SourceId
    """Where the list was checked (e.g. the Hugging Face model tree)."""
    note: Text | None = None


class Lineage(Strict):
    """How the model relates to others in the catalog."""

    source: SourceId
    """Citation for the relations below."""
    notes: Prose | None = None
    """Markdown prose on the model's place in its family."""
    base_model: CitedSlug | None = None
    """The pretrained model this one was fine-tuned from (catalog id)."""
    predecessor: CitedSlug | None = None
    """The model this one replaces (catalog id)."""
    successor: CitedSlug | None = None
    """The model that replaces this one (catalog id)."""
    distilled_from: CitedSlug | None = None
    """The teacher this model was distilled from (catalog id)."""


class Lifecycle(Strict):
    """Support status and where to go next."""

    source: SourceId
    """Citation for the facts below."""
    end_of_life: CitedDate | None = None
    """When the publisher ends support; absent when none is announced."""
    alternatives: list[Slug] = []
    """Catalog ids of models the source recommends instead."""


class MaxTokensAdvice(Strict):
    use: Text
    """The kind of use."""
    max_tokens: PositiveInt
    """Recommended max_tokens for it."""


class NumberRange(Strict):
    min: float
    max: float


class InferenceSettings(Strict):
    """Request settings a source recommends."""

    source: SourceId
    """Citation for the settings below."""
    max_tokens: list[MaxTokensAdvice] = []
    """max_tokens by use."""
    stop_sequences: list[Text] = []
    """Stop strings to send."""
    temperature: NonNegativeFloat | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    frequency_penalty: NumberRange | None = None
    """Recommended range for frequency_penalty."""
    advice: Prose | None = None
    """Markdown: the source's advice in short."""


class DisagreeingValue(Strict):
    source: SourceId
    value: Union[str, int, float, bool]


class Disagreement(Strict):
    """Sources that disagree on a value, and which one the page follows."""

    field: Text
    """The field in question, e.g. architecture.total_params."""
    followed: SourceId
    """The source whose value the catalog records."""
    note: Text
    """One sentence on the disagreement."""
    values: list[DisagreeingValue] = Field(min_length=1)
    """What the other sources say."""


class ModelFile(Strict):
    """One model: data/models/<id>.yaml, the file name being its id."""

    name: Text
    """The model's name as its publisher writes it."""
    aliases: list[Text] = []
    """Other names people search for: short forms, repository names."""
    organization: Slug
    """Id in organizations.yaml."""
    family: Slug | None = None
    """Id in families.yaml."""
    license: CitedSlug
    """Id in licenses.yaml; decides the openness class."""
    release_date: CitedDate
    """When the weights were released."""
    added: PartialDate
    """When the model was added to this catalog (drives the feed)."""
    source: SourceId
    """Citation for the name, organization, license and release date."""
    summary: Prose
    """One paragraph, markdown."""
    why_people_cared: CitedProse | None = None
    """Why the model mattered, in a paragraph or two, with the sources it rests on."""
    huggingface_repo: Annotated[str, StringConstraints(pattern=r"^[\w.-]+/[\w.-]+$")] | None = None
    """owner/name of the weights on Hugging Face."""
    architecture: Architecture
    training: Training | None = None
    capabilities: Capabilities | None = None
    benchmarks: list[Score] = []
    """Published benchmark results, each with its setting, date and source."""
    offers: list[Offer] = []
    """Providers serving the model, with dated prices and speeds."""
    quantizations: Quantizations | None = None
    use_cases: list[CitedText] = []
    """Recommended use cases."""
    innovations: list[CitedText] = []
    """Notable innovations."""
    limitations: list[CitedText] = []
    """Known limitations."""
    lineage: Lineage | None = None
    lifecycle: Lifecycle | None = None
    inference_settings: InferenceSettings | None = None
    disagreements: list[Disagreement] = []
    """Values on which sources disagree."""
    sources: list[Source] = Field(min_length=1)
    """The numbered source list every other field cites by id."""

    @property
    def license_id(self) -> str:
        return plain(self.license)

    @property
    def released(self) -> PartialDate:
        return plain(self.release_date)


# --- shared entities ------------------------------------------------------------------------

class Organization(Strict):
    """A company or lab that publishes models."""

    name: Text
    url: HttpsUrl
    """Homepage."""
    country: Text | None = None
    description: Text | None = None


class License(Strict):
    """A license's structured terms."""

    name: Text
    url: HttpsUrl
    """The license text."""
    spdx: Text | None = None
    """SPDX identifier, when it has one."""
    osi_approved: bool
    """Approved by the Open Source Initiative."""
    proprietary: bool = False
    """True when weights are not available for download under this license."""
    commercial_use: Literal["yes", "conditional", "no"]
    commercial_use_note: Text | None = None
    user_threshold_mau: PositiveInt | None = None
    """Monthly active users above which a separate license is needed."""
    attribution: Text | None = None
    """The notice or display the license requires."""
    naming: Text | None = None
    """How derivative models must be named."""
    outputs_may_train_other_models: Literal["yes", "no", "conditional", "unspecified"]
    outputs_note: Text | None = None
    acceptable_use_policy: HttpsUrl | None = None
    summary: Prose
    source: Citation
    """Where these terms can be checked."""


class Provider(Strict):
    """An inference provider."""

    name: Text
    url: HttpsUrl
    description: Text | None = None


class Benchmark(Strict):
    """A benchmark and the range its scores fall in."""

    name: Text
    category: Text
    """knowledge, reasoning, math, code, tool use, multilingual, instruction following …"""
    unit: Literal["percent", "score", "elo"]
    min: float
    max: float
    higher_is_better: bool = True
    url: HttpsUrl | None = None
    description: Text

    @model_validator(mode="after")
    def _range(self) -> "Benchmark":
        if self.min >= self.max:
            raise PydanticCustomError("range", "min must be below max")
        return self


class Runtime(Strict):
    name: Text
    url: HttpsUrl


class Format(Strict):
    """A quantization format and the runtimes that run it."""

    name: Text
    description: Text
    bits: Text | None = None
    runtimes: list[Runtime] = []
    url: HttpsUrl | None = None


class Family(Strict):
    """A family of related models."""

    name: Text
    organization: Slug
    description: Text


class SiteSettings(Strict):
    """data/site.yaml: settings of the whole site."""

    title: Text
    base_url: HttpsUrl
    """Absolute url the site is served from; canonical links, the feed and the sitemap use it."""
    description: Text
    stale_after_days: PositiveInt = 180
    """A price or speed older than this is marked stale."""
    language: LanguageCode = "en"


# The shared files are mappings from id to entity, so duplicate ids are duplicate keys.
SHARED_FILES: dict[str, type[Strict]] = {
    "organizations.yaml": Organization,
    "licenses.yaml": License,
    "providers.yaml": Provider,
    "benchmarks.yaml": Benchmark,
    "formats.yaml": Format,
    "families.yaml": Family,
}
