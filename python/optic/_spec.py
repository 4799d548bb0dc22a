"""TensorSpec: what Model.inputs and Model.outputs list."""
from typing import NamedTuple, Optional, Tuple


class TensorSpec(NamedTuple):
    """A model input or output: its name, NumPy dtype name and shape (None: a variable dim)."""

    name: str
    dtype: str
    shape: Tuple[Optional[int], ...]
