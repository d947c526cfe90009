"""GRPO on the teacher with TRL: teaching tasks, reward functions (a registry), the trainer entry point."""
