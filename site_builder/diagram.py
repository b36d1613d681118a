"""The labels of a model's architecture diagram, each tied to the source of its value.

`build_diagram` decides what each box says, so a mixture-of-experts model or another attention
draws differently; `diagram_svg` draws it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from markupsafe import Markup

from .render import count_short, escape_text
from .schema import ModelFile, plain, source_of

ATTENTION_NAMES = {
    "mha": "Multi-Head Attention",
    "mqa": "Multi-Query Attention",
    "gqa": "Grouped-Query Attention",
    "mla": "Multi-head Latent Attention",
}
POSITION_NAMES = {
    "rope": "RoPE",
    "rope-llama3": "RoPE (Llama 3 scaling)",
    "rope-yarn": "RoPE (YaRN scaling)",
    "rope-linear": "RoPE (linear scaling)",
    "rope-dynamic": "RoPE (dynamic NTK scaling)",
    "rope-longrope": "RoPE (LongRoPE scaling)",
    "irope": "iRoPE (interleaved RoPE and NoPE layers)",
    "alibi": "ALiBi",
    "learned": "Learned positions",
    "none": "No position encoding",
}


@dataclass(frozen=True)
class Label:
    text: str
    source: str | None
    """Source id of the value shown, or None for fixed wording."""


@dataclass(frozen=True)
class Box:
    key: str
    title: Label
    details: tuple[Label, ...]


@dataclass(frozen=True)
class Diagram:
    title: str
    description: str
    embedding: Box
    layers: Label | None
    block: tuple[Box, ...]
    """The boxes inside the repeated block: attention, position, MLP."""
    moe: bool
    experts_total: int
    experts_active: int
    params: Box
    output: Box


def build_diagram(model: ModelFile) -> Diagram:
    arch = model.architecture
    src = arch.source

    def label(text: str, value) -> Label:
        return Label(text, source_of(value, src))

    embedding_details = []
    if arch.vocab_size is not None:
        embedding_details.append(label(f"vocab {plain(arch.vocab_size):,}", arch.vocab_size))
    if arch.tokenizer is not None:
        embedding_details.append(label(f"{plain(arch.tokenizer)} tokenizer", arch.tokenizer))
    if arch.hidden_size is not None:
        embedding_details.append(label(f"width {plain(arch.hidden_size):,}", arch.hidden_size))
    embedding = Box("embedding", Label("Embedding", None), tuple(embedding_details) or (Label("vocabulary not reported", None),))

    attention_kind = plain(arch.attention) if arch.attention is not None else None
    attention_title = (label(ATTENTION_NAMES[attention_kind], arch.attention) if attention_kind
                       else Label("Attention (type not reported)", None))
    attention_details = []
    if arch.attention_heads is not None:
        attention_details.append(label(f"{plain(arch.attention_heads):,} query heads", arch.attention_heads))
    if arch.kv_heads is not None:
        attention_details.append(label(f"{plain(arch.kv_heads):,} key-value heads", arch.kv_heads))
    if arch.kv_lora_rank is not None:
        attention_details.append(label(f"latent rank {plain(arch.kv_lora_rank):,}", arch.kv_lora_rank))
    if arch.sliding_window is not None:
        attention_details.append(label(f"sliding window {plain(arch.sliding_window).exact:,}", arch.sliding_window))
    attention = Box("attention", attention_title, tuple(attention_details))

    position_kind = plain(arch.position_encoding) if arch.position_encoding is not None else None
    position_title = (label(POSITION_NAMES[position_kind], arch.position_encoding) if position_kind
                      else Label("Position encoding not reported", None))
    position_details = []
    if arch.context_window is not None:
        position_details.append(label(f"context {plain(arch.context_window).exact:,} tokens", arch.context_window))
    position = Box("position", position_title, tuple(position_details))

    moe = plain(arch.type) == "moe"
    mlp_details = []
    if moe:
        total, active = plain(arch.experts_total), plain(arch.experts_active)
        mlp_title = label("Mixture of experts", arch.type)
        mlp_details.append(label(f"{total:,} experts, {active:,} active per token", arch.experts_total))
        if arch.shared_experts is not None:
            mlp_details.append(label(f"+ {plain(arch.shared_experts):,} shared", arch.shared_experts))
    else:
        total = active = 0
        mlp_title = label("Dense MLP", arch.type)
    if arch.mlp is not None:
        mlp_details.append(label(f"{plain(arch.mlp)}", arch.mlp))
    if arch.activation is not None:
        mlp_details.append(label(f"{plain(arch.activation)} activation", arch.activation))
    mlp = Box("mlp", mlp_title, tuple(mlp_details))

    total_params = plain(arch.total_params)
    if arch.active_params is not None:
        active_params = plain(arch.active_params)
        params_title = label(f"{count_short(active_params)} active of {count_short(total_params)} parameters",
                             arch.active_params)
    else:
        params_title = label(f"{count_short(total_params)} parameters", arch.total_params)
    params = Box("params", params_title, ())

    output_details = []
    if arch.tie_embeddings is not None:
        tied = plain(arch.tie_embeddings)
        output_details.append(label("tied to the embedding" if tied else "separate from the embedding",
                                    arch.tie_embeddings))
    output = Box("output", Label("Output projection", None), tuple(output_details))

    layers = label(f"× {plain(arch.layers):,} layers", arch.layers) if arch.layers is not None else None
    words = [f"{model.name}: tokens enter an embedding",
             f"then pass through a block repeated {plain(arch.layers):,} times" if arch.layers else
             "then pass through a repeated block (layer count not reported)",
             f"holding {attention_title.text.lower()}, {position_title.text}",
             "and a mixture-of-experts MLP" if moe else "and a dense MLP",
             f"then an output projection; {params_title.text}."]
    return Diagram(
        title=f"Architecture of {model.name}",
        description=", ".join(words),
        embedding=embedding, layers=layers, block=(attention, position, mlp), moe=moe,
        experts_total=total, experts_active=active, params=params, output=output,
    )


# --- drawing ---------------------------------------------------------------------------------
# One column, so it reads on a phone. Geometry: 400 units wide; a box is 34 high plus 16 per
# detail line (at most 3), arrows 24. Built in Python rather than a Jinja partial: the partial's
# macros and arithmetic were a quarter of a model page's instructions (callgrind).
WIDTH, BOX_X, BOX_WIDTH = 400, 20, 360
CENTRE = WIDTH / 2
MAX_EXPERTS_DRAWN = 32


def diagram_svg(model: ModelFile, numbers: Mapping[str, int]) -> Markup:
    """The architecture diagram of a model as inline SVG; `numbers` maps source ids to the
    numbers the page's source list gives them, for the labels' links."""
    diagram = build_diagram(model)
    out: list[str] = []

    def label_text(label: Label, y: int, cls: str) -> str:
        text = f'<text x="{CENTRE}" y="{y}" class="{cls}" text-anchor="middle">{escape_text(label.text)}</text>'
        return f'<a href="#source-{numbers[label.source]}">{text}</a>' if label.source else text

    def box(b: Box, y: int, height: int, cls: str = "") -> None:
        out.append(f'<g class="box {cls} box-{b.key}">\n<rect x="{BOX_X}" y="{y}" width="{BOX_WIDTH}" height="{height}" rx="8"/>\n'
                   + label_text(b.title, y + 22, "box-title") + "\n")
        out.extend(label_text(detail, y + 40 + i * 16, "box-detail") + "\n" for i, detail in enumerate(b.details[:3]))
        out.append("</g>")

    def arrow(y: int) -> None:
        out.append(f'<path class="arrow" d="M{CENTRE} {y + 2} V{y + 20} m-5 -6 l5 6 l5 -6"/>')

    def box_then_arrow(b: Box, y: int, height: int, cls: str = "") -> int:
        """Draw a box and the arrow below it; where the next part starts."""
        box(b, y, height, cls)
        arrow(y + height)
        return y + height + 24

    def pill(y: int, text: str) -> None:
        out.append(f'<g class="pill"><rect x="{CENTRE - 60}" y="{y}" width="120" height="28" rx="14"/>'
                   f'<text x="{CENTRE}" y="{y + 19}" text-anchor="middle" class="pill-text">{text}</text></g>')

    h_embed, h_params, h_out = (box_height(b) for b in (diagram.embedding, diagram.params, diagram.output))
    block_heights = [box_height(b) for b in diagram.block]
    experts_h = 30 if diagram.moe else 0
    block_h = 40 + sum(block_heights) + 12 * (len(block_heights) - 1) + experts_h + 14
    total_h = 8 + 28 + 24 + h_embed + 24 + block_h + 24 + h_params + 24 + h_out + 24 + 28 + 8
    out.append(f'<figure class="diagram">\n<svg viewBox="0 0 {WIDTH} {total_h}" aria-labelledby="diagram-title diagram-desc"'
               f' xmlns="http://www.w3.org/2000/svg">\n<title id="diagram-title">{escape_text(diagram.title)}</title>\n'
               f'<desc id="diagram-desc">{escape_text(diagram.description)}</desc>\n')
    y = 8
    pill(y, "tokens in")
    arrow(y + 28)
    y = box_then_arrow(diagram.embedding, y + 28 + 24, h_embed)
    out.append(f'<g class="block">\n<rect class="block-frame" x="8" y="{y}" width="{WIDTH - 16}" height="{block_h}" rx="12"/>\n')
    out.append(label_text(diagram.layers, y + 24, "block-title") if diagram.layers else
               f'<text x="{CENTRE}" y="{y + 24}" text-anchor="middle" class="block-title">× N layers (not reported)</text>')
    inner = y + 40
    for b, height in zip(diagram.block, block_heights):
        box(b, inner, height, "inner")
        inner += height + 12
        if b.key == "mlp" and diagram.moe:
            shown = min(diagram.experts_total, MAX_EXPERTS_DRAWN)
            cell = (BOX_WIDTH - 20) / shown
            out.append('<g class="experts" aria-hidden="true">\n')
            out.extend(f'<rect x="{BOX_X + 10 + i * cell:.2f}" y="{inner - 8}" width="{cell - 2:.2f}" height="14" rx="2"'
                       f' class="{"expert-on" if i < diagram.experts_active else "expert-off"}"/>' for i in range(shown))
            more = f" (first {MAX_EXPERTS_DRAWN} drawn)" if diagram.experts_total > MAX_EXPERTS_DRAWN else ""
            out.append(f'</g>\n<text x="{CENTRE}" y="{inner + 20}" text-anchor="middle" class="box-detail">'
                       f'{diagram.experts_active} of {diagram.experts_total} experts route each token{more}</text>')
            inner += experts_h
    out.append("</g>")
    arrow(y + block_h)
    y = box_then_arrow(diagram.params, y + block_h + 24, h_params, "params")
    y = box_then_arrow(diagram.output, y, h_out)
    pill(y, "tokens out")
    out.append("\n</svg>\n</figure>")
    return Markup("".join(out))


def box_height(b: Box) -> int:
    return 34 + 16 * min(len(b.details), 3)
