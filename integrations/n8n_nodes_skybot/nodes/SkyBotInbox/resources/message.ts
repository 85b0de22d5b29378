/** Messages of a conversation: `/api/v1/conversations/{id}/messages` (send one, list newest first). */
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { chosenLimit, paginationFields, recordId } from '../parameters';
import { apiRequest, apiRequestAllItems } from '../transport';

export const messageOperations: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['message'] } },
		options: [
			{
				name: 'Get Many',
				value: 'getAll',
				description: "Get many of a conversation's messages, newest first",
				action: 'Get many messages',
			},
			{
				name: 'Send',
				value: 'create',
				description: 'Send a reply in a conversation (text, or an approved WhatsApp template)',
				action: 'Send a message',
			},
		],
		default: 'create',
	},
];

const showForSend = { resource: ['message'], operation: ['create'] };

export const messageProperties: INodeProperties[] = [
	{
		displayName: 'Conversation ID',
		name: 'conversationId',
		type: 'string',
		required: true,
		displayOptions: { show: { resource: ['message'], operation: ['create', 'getAll'] } },
		default: '',
	},
	{
		displayName: 'Message Type',
		name: 'messageType',
		type: 'options',
		displayOptions: { show: showForSend },
		options: [
			{
				name: 'Text',
				value: 'text',
				description: "Free text: only within 24 hours of the customer's last message",
			},
			{
				name: 'Template',
				value: 'template',
				description: 'An approved WhatsApp template: allowed at any time',
			},
		],
		default: 'text',
	},
	{
		displayName: 'Text',
		name: 'text',
		type: 'string',
		required: true,
		typeOptions: { rows: 4 },
		displayOptions: { show: { ...showForSend, messageType: ['text'] } },
		default: '',
		description: 'The reply, up to 4096 characters',
	},
	{
		displayName: 'Template Name',
		name: 'templateName',
		type: 'string',
		required: true,
		displayOptions: { show: { ...showForSend, messageType: ['template'] } },
		default: '',
		placeholder: 'order_update',
		description: 'Name of the approved template (lowercase letters, digits and underscores)',
	},
	{
		displayName: 'Template Language',
		name: 'templateLanguage',
		type: 'string',
		required: true,
		displayOptions: { show: { ...showForSend, messageType: ['template'] } },
		default: 'en_US',
		description: 'Language code of the template, e.g. en_US or pt_BR',
	},
	{
		displayName: 'Template Parameters',
		name: 'templateParameters',
		type: 'fixedCollection',
		placeholder: 'Add Parameter',
		typeOptions: { multipleValues: true, sortable: true },
		displayOptions: { show: { ...showForSend, messageType: ['template'] } },
		default: {},
		description: "Values for the template's placeholders, in order",
		options: [
			{
				displayName: 'Parameter',
				name: 'parameter',
				values: [
					{
						displayName: 'Value',
						name: 'value',
						type: 'string',
						default: '',
					},
				],
			},
		],
	},
	...paginationFields('message'),
];

export async function executeMessage(
	this: IExecuteFunctions,
	operation: string,
	itemIndex: number,
): Promise<IDataObject | IDataObject[]> {
	const conversation = recordId(this, 'conversationId', 'Conversation ID', itemIndex);
	const path = `/conversations/${conversation}/messages`;
	if (operation === 'create') {
		const messageType = this.getNodeParameter('messageType', itemIndex, 'text') as string;
		if (messageType === 'template') {
			const parameters = this.getNodeParameter('templateParameters', itemIndex, {}) as {
				parameter?: Array<{ value?: string }>;
			};
			const template = {
				name: this.getNodeParameter('templateName', itemIndex) as string,
				language: this.getNodeParameter('templateLanguage', itemIndex) as string,
				parameters: (parameters.parameter ?? []).map((entry) => String(entry.value ?? '')),
			};
			return await apiRequest.call(this, 'POST', path, { template });
		}
		const text = this.getNodeParameter('text', itemIndex) as string;
		return await apiRequest.call(this, 'POST', path, { text });
	}
	if (operation === 'getAll') {
		return await apiRequestAllItems.call(this, path, {}, chosenLimit(this, itemIndex));
	}
	throw new NodeOperationError(this.getNode(), `Unknown message operation "${operation}"`, {
		itemIndex,
	});
}
