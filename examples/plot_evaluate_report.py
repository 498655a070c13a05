"""
The evaluation report
=====================

Split the example table as the protocols do (the generator learns from 80%
of the rows; the other 20%, never seen, are the yardstick), synthesize,
evaluate, and write the HTML report that ``tabsynth evaluate --report``
writes. The report is one self-contained file (inline SVG charts, no
scripts, nothing fetched): it is shown at the bottom of this page as it
opens in a browser.
"""

import html
import pathlib
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from tabsynth import Synthesizer
from tabsynth.datasets import load_example
from tabsynth.evaluate import evaluate, summary_table
from tabsynth.evaluate.report import write_report

train, holdout = train_test_split(load_example(), test_size=0.2, random_state=0)
synthetic = Synthesizer(random_state=0).fit(train).sample(len(train), seed=0)
result = evaluate(train, synthetic, holdout=holdout, target="progression", seeds=(0,))
print(summary_table(result))

# %%
# The figures behind the verdicts
# -------------------------------
# Left: each column's shape score (1 - KS or 1 - TVD). Right: each model's
# R² on the real holdout rows when trained on real rows, on synthetic rows,
# and on both.

columns = result["fidelity"]["columns"]
names = sorted(columns, key=lambda c: columns[c]["score"])
models = result["utility"]["models"]
fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
left.barh(names, [columns[c]["score"] for c in names], color="#1f77b4")
left.set_xlim(0.5, 1)
left.set_xlabel("column shape score (1 = identical)")
width = 0.27
for k, (part, color) in enumerate([("real", "#7f7f7f"), ("synthetic", "#ff7f0e"), ("augmented", "#2ca02c")]):
    x = np.arange(len(models)) + (k - 1) * width
    right.bar(x, [m[part] for m in models.values()], width, label=f"trained on {part}", color=color)
right.set_xticks(np.arange(len(models)), [m.replace("_", " ") for m in models], rotation=20, ha="right")
right.axhline(0, color="black", linewidth=0.8)
right.set_ylabel("R² on the holdout rows")
right.legend(fontsize=8)
plt.show()

# %%
# The HTML report
# ---------------
# ``write_report`` writes it atomically; here it is read back and shown in
# a frame (the same bytes a browser opens from disk).


class Report:
    """Show an HTML file in the page (sphinx-gallery displays ``_repr_html_``)."""

    def __init__(self, path):
        self.text = pathlib.Path(path).read_text(encoding="utf-8")

    def _repr_html_(self):
        return ('<iframe class="tabsynth-report" title="tabsynth evaluation report" '
                f'style="width:100%;height:900px;border:1px solid #ccc" srcdoc="{html.escape(self.text)}"></iframe>')


path = pathlib.Path(tempfile.mkdtemp()) / "report.html"
write_report(result, train, synthetic, path, title="tabsynth evaluation: diabetes example")
Report(path)
