"""The shopping group's rules: commodities, the cart, orders, Alipay payments."""
