"""Turn other projects' pretrained weights into mmpretrain checkpoints."""
