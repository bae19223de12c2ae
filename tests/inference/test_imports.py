"""Inference, the models and the checkpoint metadata import without Lightning (DESIGN.md section 2)."""

import subprocess
import sys


def test_inference_models_and_their_commands_do_not_import_lightning():
    code = (
        "import sys\n"
        "import speech.inference, speech.inference.synthesizer, speech.inference.s2t, speech.metadata\n"
        "import speech.models.s2t, speech.models.las, speech.models.translator, speech.models.tacotron2\n"
        "import speech.models.lm, speech.kernels\n"
        "import speech.cli.transcribe, speech.cli.translate, speech.cli.synthesize\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('lightning', 'pytorch_lightning')"
        " or m.startswith('speech.tasks')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
