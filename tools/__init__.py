"""Vision tools: the Tool protocol, the Toolbox, video access and the default tools."""
